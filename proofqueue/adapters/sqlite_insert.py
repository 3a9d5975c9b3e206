"""Events saved into SQLite with one statement, which is its own transaction.

eventsourcing saves events with ``BEGIN``, one ``INSERT`` per event and ``COMMIT``. Each
statement the sqlite3 module runs lets go of the GIL while SQLite works, and taking it back
waits for the thread that took it meanwhile: up to the interpreter's switch interval (5 ms)
when that thread is busy in Python. A group commit that saves 25 events that way waits like
that 27 times while the submitters it serves keep the interpreter busy. Here the events of
one save (up to ``CHUNK``) go in with one ``INSERT ... VALUES (...), (...)`` on the
connection as eventsourcing leaves it, in autocommit mode: SQLite makes the statement a
transaction of its own, all its rows or none, committed (and synced, as ``synchronous``
says) before it returns. One statement, one wait. More events than ``CHUNK``, or a save
with tracking, go eventsourcing's way, one statement per ``CHUNK`` rows.

The notification ids are the rows' rowids: SQLite gives each new row one more than the
largest rowid in the table, so the rows of one statement are numbered consecutively up to
its ``lastrowid`` (the store is locked for writing while it runs). Only a table whose
largest rowid is the largest SQLite allows numbers rows at random; then the ids are read
back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing import persistence
from eventsourcing.persistence import StoredEvent

# Rows per statement: 800 parameters, under SQLite's oldest default limit (999).
CHUNK = 200
_LARGEST_ROWID = 2**63 - 1

# sqlite3's errors as eventsourcing names them (as its transactions raise them).
_ERRORS: tuple[tuple[type[sqlite3.Error], type[persistence.PersistenceError]], ...] = (
    (sqlite3.InterfaceError, persistence.InterfaceError),
    (sqlite3.DataError, persistence.DataError),
    (sqlite3.OperationalError, persistence.OperationalError),
    (sqlite3.IntegrityError, persistence.IntegrityError),
    (sqlite3.InternalError, persistence.InternalError),
    (sqlite3.ProgrammingError, persistence.ProgrammingError),
    (sqlite3.NotSupportedError, persistence.NotSupportedError),
    (sqlite3.DatabaseError, persistence.DatabaseError),
    (sqlite3.Error, persistence.PersistenceError),
)

Insert = Callable[..., Sequence[int] | None]


def _rows(stored_events: Sequence[StoredEvent]) -> list[tuple[Any, ...]]:
    return [
        (
            s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
            s.originator_version,
            s.topic,
            s.state,
        )
        for s in stored_events
    ]


def _insert(c: Any, table: str, rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert ``rows`` with one statement; their notification ids."""
    values = ",".join(["(?,?,?,?)"] * len(rows))
    c.execute(f"INSERT INTO {table} VALUES {values}", [v for r in rows for v in r])  # noqa: S608
    last = c.lastrowid
    if isinstance(last, int) and last - len(rows) >= 0 and last < _LARGEST_ROWID:
        return list(range(last - len(rows) + 1, last + 1))
    ids = []  # numbered at random: read them back
    for row in rows:
        c.execute(
            f"SELECT rowid FROM {table} WHERE originator_id=? AND originator_version=?",  # noqa: S608
            row[:2],
        )
        ids.append(int(c.fetchone()[0]))
    return ids


def chunked(recorder: Any) -> Insert:
    """``recorder._insert_events`` (inside eventsourcing's transaction): one statement per
    ``CHUNK`` events."""
    table = recorder.events_table_name

    def insert_chunks(c: Any, stored_events: Sequence[StoredEvent], **_: Any) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(stored_events), CHUNK):
            ids += _insert(c, table, _rows(stored_events[start : start + CHUNK]))
        return ids

    return insert_chunks


def one_statement(recorder: Any, in_transaction: Insert) -> Insert:
    """``recorder.insert_events``: up to ``CHUNK`` events in one autocommit statement on
    the pool's writing connection; anything else by ``in_transaction`` (eventsourcing's)."""
    table = recorder.events_table_name
    datastore = recorder.datastore

    def insert_events(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events or len(stored_events) > CHUNK or any(kwargs.values()):
            return in_transaction(stored_events, **kwargs)
        rows = _rows(stored_events)
        with datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            try:
                with cursor as c:
                    return _insert(c, table, rows)
            except sqlite3.Error as exc:
                for raw, named in _ERRORS:
                    if isinstance(exc, raw):
                        raise named(exc) from exc
                raise  # not reached: sqlite3.Error is the last of the table

    return insert_events
