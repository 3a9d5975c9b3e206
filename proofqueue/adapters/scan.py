"""Reading the whole log by aggregate: every stored event, each aggregate's together in
version order, a page at a time by the events table's own key (``verify --all``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from eventsourcing.persistence import StoredEvent


def by_aggregate(recorder: Any, page: int = 1000) -> Iterator[StoredEvent]:
    """Every stored event, each aggregate's together in version order (aggregates in
    id order), read a page at a time by key: memory stays flat however long the log."""
    postgres = hasattr(recorder.datastore, "schema")
    if postgres:
        from psycopg import sql

        table: Any = sql.SQL("{}.{}").format(
            sql.Identifier(recorder.datastore.schema),
            sql.Identifier(recorder.events_table_name),
        )
        statement: Any = sql.SQL(
            "SELECT originator_id, originator_version, topic, state FROM {}"
            " WHERE (originator_id, originator_version) > (%s, %s)"
            " ORDER BY originator_id, originator_version LIMIT %s"
        ).format(table)
        after: tuple[Any, int] = (uuid.UUID(int=0), 0)
        first = "SELECT originator_id, originator_version, topic, state FROM {} ORDER BY"
        opening: Any = sql.SQL(first + " originator_id, originator_version LIMIT %s")
        opening = opening.format(table)
    else:
        name = recorder.events_table_name
        statement = (
            f"SELECT originator_id, originator_version, topic, state FROM {name}"  # noqa: S608  (eventsourcing's table name)
            " WHERE (originator_id, originator_version) > (?, ?)"
            " ORDER BY originator_id, originator_version LIMIT ?"
        )
        opening = (
            f"SELECT originator_id, originator_version, topic, state FROM {name}"  # noqa: S608
            " ORDER BY originator_id, originator_version LIMIT ?"
        )
        after = ("", 0)
    convert = getattr(recorder, "convert_originator_id", lambda value: value)
    started = False
    while True:
        with recorder.datastore.transaction(commit=False) as cursor:
            if started:
                cursor.execute(statement, (*after, page))
            else:
                cursor.execute(opening, (page,))
            rows = cursor.fetchall()
        started = True
        for row in rows:
            yield StoredEvent(
                originator_id=convert(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
        if len(rows) < page:
            return
        after = (rows[-1]["originator_id"], rows[-1]["originator_version"])
