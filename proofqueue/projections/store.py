"""The views' own store: plain SQL on the log's datastore (SQLite or PostgreSQL), so a
view's rows and its tracking position are written in one transaction with the same
connection pool. Statements are written with ``?`` and adapted to the dialect.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from eventsourcing.persistence import DatabaseError, OperationalError, PersistenceError

Dialect = Literal["sqlite", "postgres"]


@dataclass
class ViewDB:
    """Plain SQL on the store's own datastore. Statements are written with ``?``."""

    datastore: Any
    dialect: Dialect
    # A throwaway view store (replay) need not survive a power cut: no fsync per commit.
    durable: bool = True

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dialect == "postgres" else statement

    @contextmanager
    def transaction(self, *, soft: bool = False) -> Iterator[Cursor]:
        """A write transaction; SQLite takes the write lock at once (BEGIN IMMEDIATE).

        ``soft``: the commit need not survive a power cut (no fsync), though it stays
        atomic and survives a crash of this process. For what is rebuilt from the log (the
        views and their position, written together) and soft state (heartbeats, counts of
        calls): losing the last of those to a power cut loses nothing."""
        soft = soft or not self.durable
        if self.dialect == "sqlite":
            with self.datastore.get_connection(commit=True) as conn:
                cursor = conn.cursor()
                if soft:  # in WAL mode NORMAL syncs at checkpoints only
                    cursor.execute(f"PRAGMA synchronous = {'NORMAL' if self.durable else 'OFF'}")
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    try:
                        yield Cursor(cursor, self)
                    except BaseException:
                        conn.rollback()
                        raise
                    conn.commit()
                finally:
                    if soft and self.durable:  # the pooled connection writes the log too
                        cursor.execute("PRAGMA synchronous = FULL")
        else:
            with self._postgres(commit=True) as cursor:
                if soft:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                yield Cursor(cursor, self)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A read-only transaction (rolled back: it commits nothing). Not pipelined on
        PostgreSQL: psycopg's pipeline mode syncs on entering and leaving the transaction
        as well, and a one-statement read took 720 µs of wall and 360 µs of CPU against 400
        and 210 µs as a plain transaction (loopback, 1,000 reads)."""
        if self.dialect == "sqlite":
            with self.datastore.transaction(commit=False) as cursor:
                yield Cursor(cursor, self)
            return
        with self._postgres(commit=False) as cursor:
            yield Cursor(cursor, self)

    @contextmanager
    def _postgres(self, *, commit: bool) -> Iterator[Any]:
        """A transaction on a pooled PostgreSQL connection that prepares no statements.

        psycopg forgets a connection's prepared statements when a transaction on it rolls
        back (as every read does here), sending DEALLOCATE ALL (a transaction of its own)
        and preparing each again on its next use (one more): two store commits per read,
        for statements that take microseconds to plan."""
        with self.datastore.get_connection() as conn:
            conn.prepare_threshold = None
            with conn.transaction(force_rollback=not commit):
                yield conn.cursor()

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.reading() as cur:
            return cur.all(statement, params)


@dataclass
class Cursor:
    raw: Any
    db: ViewDB

    def __post_init__(self) -> None:
        # eventsourcing wraps sqlite3's cursor; use the DB-API cursor underneath.
        self.raw = getattr(self.raw, "sqlite_cursor", self.raw)

    def run(self, statement: str, params: Sequence[Any] = ()) -> int:
        self.raw.execute(self.db.sql(statement), tuple(params))
        return int(self.raw.rowcount)

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """On PostgreSQL, statements in the block are sent without waiting for each one's
        answer (psycopg's pipeline mode): a read still waits for what was sent before it,
        and an error still surfaces, by the end of the block at the latest. Writes between
        two reads cost one round trip together. On SQLite, as outside the block."""
        if self.db.dialect != "postgres":
            yield
            return
        with self.raw.connection.pipeline():
            yield

    def many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``."""
        if rows:
            self.raw.executemany(self.db.sql(statement), [tuple(row) for row in rows])

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.raw.execute(self.db.sql(statement), tuple(params))
        return [dict(row) for row in self.raw.fetchall()]

    def all_of(self, queries: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
        """The rows of each of ``queries`` (statement, params), one after the other (sent
        together in psycopg's pipeline mode they took as long, with more CPU)."""
        return [self.all(statement, params) for statement, params in queries]

    def one(self, statement: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.all(statement, params)
        return rows[0] if rows else None


def sqlite_viewdb(path: str) -> ViewDB:
    """A standalone, throwaway SQLite view database (replay rebuilds into one)."""
    from eventsourcing.sqlite import SQLiteDatastore

    return ViewDB(SQLiteDatastore(db_name=path, lock_timeout=30), "sqlite", durable=False)


# SQLITE_BUSY and SQLITE_LOCKED (the primary code: the low byte of an extended one).
_SQLITE_BUSY = frozenset({5, 6})


def _cause(exc: BaseException) -> BaseException:
    """The driver's own error under eventsourcing's wrapping of it."""
    if isinstance(exc, PersistenceError) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def busy(exc: BaseException) -> bool:
    """The store was busy (another writer held it) or its server was briefly away: try
    again, nothing is wrong."""
    cause = _cause(exc)
    if isinstance(cause, sqlite3.OperationalError):
        code = getattr(cause, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_BUSY
    return isinstance(exc, OperationalError)  # eventsourcing's, on PostgreSQL


def store_fault(exc: BaseException) -> bool:
    """The views' store itself failing: a damaged file (corrupt page, not a database, a
    damaged schema), a disk error, a lost server. Never a reason to call an event damaged;
    an error that only one event's content causes (a constraint, a value the store
    refuses) is not one of these."""
    cause = _cause(exc)
    if type(cause) is sqlite3.DatabaseError or isinstance(cause, sqlite3.OperationalError):
        return True
    if type(exc) is DatabaseError or isinstance(exc, OperationalError):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(cause, psycopg.OperationalError)
