"""Loading several aggregates in one read of the log (a worker round's claims and reads of
jobs): one statement in one read-only transaction, instead of one autocommit query (one
store commit on PostgreSQL) per aggregate.

Each aggregate is projected as a single load would (``project``: every event decoded
strictly and chain-checked), from its first event: the aggregate cache is neither read nor
written (threads fast-forward its entries in place). An aggregate that is missing, or
whose events do not decode or apply, is left out of the answer: the caller loads it alone,
which names what is wrong (``TrailDamaged``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent

from proofqueue.adapters.versions import checked

# At most this many aggregates in one statement.
CHUNK = 500


def load_many(
    recorder: Any,
    mapper: Any,
    project: Callable[[Any, Iterable[Any]], Any],
    keys: Sequence[uuid.UUID],
) -> dict[uuid.UUID, Any]:
    """The aggregates of ``keys`` that load cleanly, by key."""
    found: dict[uuid.UUID, Any] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = list(dict.fromkeys(keys[start : start + CHUNK]))
        for key, stored in _grouped(_select(recorder, chunk)).items():
            try:
                aggregate = project(None, [mapper.to_domain_event(s) for s in stored])
            except Exception:  # noqa: S112  (named by the caller's single load)
                continue
            if aggregate is not None:
                found[key] = aggregate
    return found


def _grouped(rows: list[StoredEvent]) -> dict[Any, list[StoredEvent]]:
    grouped: dict[Any, list[StoredEvent]] = {}
    for row in rows:
        grouped.setdefault(row.originator_id, []).append(row)
    return grouped


def last_version(recorder: Any, key: uuid.UUID) -> int:
    """The version of the last stored event of ``key`` (0 when it has none), read in a
    read-only transaction: a check whether an aggregate moved that commits nothing."""
    if hasattr(recorder.datastore, "schema"):
        from psycopg import sql

        statement: Any = sql.SQL(
            "SELECT max(originator_version) AS version FROM {}.{} WHERE originator_id = %s"
        ).format(
            sql.Identifier(recorder.datastore.schema),
            sql.Identifier(recorder.events_table_name),
        )
        with recorder.datastore.get_connection() as conn:
            conn.prepare_threshold = None  # as in _select
            with conn.transaction(force_rollback=True):
                row = conn.execute(statement, (key,)).fetchone()
    else:
        text = (
            "SELECT max(originator_version) AS version"  # noqa: S608  (eventsourcing's table)
            f" FROM {recorder.events_table_name} WHERE originator_id = ?"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(text, (key.hex,))
            row = cursor.fetchone()
    return checked(row["version"]) if row and row["version"] is not None else 0


def _select(recorder: Any, keys: list[uuid.UUID]) -> list[StoredEvent]:
    """Every stored event of ``keys``, each aggregate's in version order."""
    if not keys:
        return []
    convert = getattr(recorder, "convert_originator_id", lambda value: value)
    if hasattr(recorder.datastore, "schema"):
        from psycopg import sql

        statement: Any = sql.SQL(
            "SELECT originator_id, originator_version, topic, state FROM {}.{}"
            " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(
            sql.Identifier(recorder.datastore.schema),
            sql.Identifier(recorder.events_table_name),
        )
        with recorder.datastore.get_connection() as conn:
            # A read rolls back, and psycopg then forgets (DEALLOCATE ALL, one more
            # commit) the statements prepared on the connection: prepare none on it.
            conn.prepare_threshold = None
            with conn.transaction(force_rollback=True):
                rows = conn.execute(statement, (keys,)).fetchall()
    else:
        marks = ", ".join("?" for _ in keys)
        text = (
            "SELECT originator_id, originator_version, topic, state"  # noqa: S608  (eventsourcing's table)
            f" FROM {recorder.events_table_name} WHERE originator_id IN ({marks})"
            " ORDER BY originator_id, originator_version"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(text, [key.hex for key in keys])
            rows = cursor.fetchall()
    return [
        StoredEvent(
            originator_id=convert(row["originator_id"]),
            originator_version=checked(row["originator_version"]),
            topic=row["topic"],
            state=row["state"],  # bytes; TEXT or NULL (a damaged row) the mapper converts or names
        )
        for row in rows
    ]
