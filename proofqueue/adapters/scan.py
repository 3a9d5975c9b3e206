"""Reading the whole log for ``verify --all``, a page at a time by the events table's own
keys: every event by aggregate (each aggregate's together, in version order, with its
notification id), every notification id in order, and the events at given ids."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import Notification

from proofqueue.adapters.mapper import stored_bytes
from proofqueue.adapters.versions import checked


def _run(recorder: Any, text: str, params: tuple[Any, ...]) -> Any:
    """The rows of one read of the events table: ``{table}`` and ``{nid}`` (its notification
    id column) filled in for the store's dialect, ``?`` a placeholder."""
    if hasattr(recorder.datastore, "schema"):  # PostgreSQL
        from psycopg import sql

        table = sql.SQL("{}.{}").format(
            sql.Identifier(recorder.datastore.schema),
            sql.Identifier(recorder.events_table_name),
        )
        nid = sql.Identifier("notification_id")
        statement: Any = sql.SQL(text.replace("?", "%s")).format(table=table, nid=nid)
    else:
        statement = text.format(table=recorder.events_table_name, nid="rowid")
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _postgres(recorder: Any) -> bool:
    return hasattr(recorder.datastore, "schema")


_COLUMNS = "SELECT {nid} AS id, originator_id, originator_version, topic, state FROM {table}"
_BY_KEY = " ORDER BY originator_id, originator_version LIMIT ?"


def by_aggregate(recorder: Any, page: int = 1000) -> Iterator[Notification]:
    """Every stored event with its notification id, each aggregate's together in version
    order (aggregates in id order), read a page at a time by key: memory stays flat
    however long the log."""
    convert = getattr(recorder, "convert_originator_id", lambda value: value)
    rows = _run(recorder, _COLUMNS + _BY_KEY, (page,))
    while True:
        for row in rows:
            yield Notification(
                id=int(row["id"]),
                originator_id=convert(row["originator_id"]),
                originator_version=checked(row["originator_version"]),
                topic=row["topic"],
                state=stored_bytes(row["state"]) or b"",  # damage is the mapper's to name
            )
        if len(rows) < page:
            return
        after = (rows[-1]["originator_id"], rows[-1]["originator_version"])
        following = _COLUMNS + " WHERE (originator_id, originator_version) > (?, ?)" + _BY_KEY
        rows = _run(recorder, following, (*after, page))


def notification_ids(recorder: Any, page: int = 10_000) -> Iterator[int]:
    """Every notification id of the log, in order, a page at a time."""
    after = 0
    statement = "SELECT {nid} AS id FROM {table} WHERE {nid} > ? ORDER BY {nid} LIMIT ?"
    while rows := _run(recorder, statement, (after, page)):
        yield from (int(row["id"]) for row in rows)
        after = int(rows[-1]["id"])


def events_at(recorder: Any, ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    """The (aggregate id, version) of the event at each of ``ids`` that the log holds."""
    if not ids:
        return {}
    params: tuple[Any, ...]
    if _postgres(recorder):
        where, params = "{nid} = ANY(?)", (list(ids),)
    else:
        where, params = "{nid} IN (" + ", ".join("?" for _ in ids) + ")", tuple(ids)
    statement = "SELECT {nid} AS id, originator_id, originator_version FROM {table} WHERE "
    return {
        int(row["id"]): (str(row["originator_id"]), checked(row["originator_version"]))
        for row in _run(recorder, statement + where, params)
    }


def notification_of(recorder: Any, originator_id: str, version: int) -> int | None:
    """The notification id of one aggregate's event ``version``, or None if it is gone."""
    key: Any = originator_id
    with contextlib.suppress(ValueError):  # stored as a UUID (PostgreSQL) or its hex (SQLite)
        key = uuid.UUID(originator_id) if _postgres(recorder) else uuid.UUID(originator_id).hex
    statement = "SELECT {nid} AS id FROM {table} WHERE originator_id = ? AND originator_version = ?"
    rows = _run(recorder, statement, (key, version))
    return int(rows[0]["id"]) if rows else None
