"""Events inserted into SQLite with one statement per 200 events, instead of one per event.

Each statement the sqlite3 module runs lets go of the GIL while SQLite works, and taking it
back waits for the thread that took it meanwhile, up to the interpreter's switch interval
(5 ms) when that thread is busy in Python. A group commit that inserts 25 events one
statement at a time waits like that 25 times while the submitters it serves keep the
interpreter busy (the async facade's event loop sat idle 42% of the time waiting for its
saves). One ``INSERT ... VALUES (...), (...)`` per chunk waits once.

The notification ids are the rows' rowids: SQLite gives each new row one more than the
largest rowid in the table, so the rows of one statement are numbered consecutively up to
its ``lastrowid`` (the store is locked for writing throughout the transaction). Only a
table whose largest rowid is the largest SQLite allows numbers rows at random; then the ids
are read back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

# Rows per statement: 800 parameters, under SQLite's oldest default limit (999).
CHUNK = 200
_LARGEST_ROWID = 2**63 - 1

Insert = Callable[..., Sequence[int] | None]


def chunked_insert(recorder: Any, one_by_one: Insert) -> Insert:
    """``recorder._insert_events`` (eventsourcing's SQLite application recorder) inserting
    every 200 events with one statement; a lone event as ``one_by_one`` does."""
    table = recorder.events_table_name
    base = f"INSERT INTO {table} VALUES "  # noqa: S608  (the recorder's own table name)
    select_id = f"SELECT rowid FROM {table} WHERE originator_id=? AND originator_version=?"  # noqa: S608

    def insert(c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        if len(stored_events) < 2:
            return list(one_by_one(c, stored_events, **kwargs) or [])
        ids: list[int] = []
        for start in range(0, len(stored_events), CHUNK):
            chunk = stored_events[start : start + CHUNK]
            rows = [
                (
                    s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                    s.originator_version,
                    s.topic,
                    s.state,
                )
                for s in chunk
            ]
            c.execute(base + ",".join(["(?,?,?,?)"] * len(rows)), [v for r in rows for v in r])
            last = c.lastrowid
            if isinstance(last, int) and last - len(rows) >= 0 and last < _LARGEST_ROWID:
                ids.extend(range(last - len(rows) + 1, last + 1))
                continue
            for row in rows:  # numbered at random: read them back
                c.execute(select_id, row[:2])
                ids.append(int(c.fetchone()[0]))
        return ids

    return insert
