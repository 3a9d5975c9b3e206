"""The views' catch-up tells the store failing from an event that cannot be applied: a busy
store is tried again, a damaged store file or a lost server is raised, and only an error
one event's content causes makes that event "damaged" (real sqlite3 errors, made here)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError

from proofqueue.projections.store import busy as _busy
from proofqueue.projections.store import store_fault as _store_fault


def _error(run: Callable[[], object]) -> BaseException:
    try:
        run()
    except Exception as exc:
        return exc
    raise AssertionError("no error")


def test_a_locked_store_is_busy_not_damage(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    locked = _error(lambda: other.execute("BEGIN IMMEDIATE"))
    assert "locked" in str(locked)
    assert _busy(locked)
    assert _busy(OperationalError("eventsourcing's"))
    holder.close()
    other.close()


def test_a_damaged_store_file_is_a_store_fault(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
        db.executemany("INSERT INTO t VALUES (?)", [("y" * 100,)] * 100)
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 't'").fetchone()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size] = 0x00
    path.write_bytes(data)
    with sqlite3.connect(path) as db:
        corrupt = _error(lambda: db.execute("SELECT COUNT(*) FROM t").fetchall())
        gone = _error(lambda: db.execute("SELECT nope FROM t").fetchall())
    assert not _busy(corrupt)
    assert _store_fault(corrupt)
    assert _store_fault(gone)  # a damaged schema: no such column


@pytest.mark.parametrize(
    "statement", ["INSERT INTO t VALUES (NULL)", "INSERT INTO t VALUES (1), (1)"]
)
def test_an_error_only_an_events_content_causes_is_neither(tmp_path: Path, statement: str) -> None:
    with sqlite3.connect(tmp_path / "s.db") as db:
        db.execute("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)")
        refused = _error(lambda: db.execute(statement))
    assert isinstance(refused, sqlite3.IntegrityError)
    assert not _busy(refused)
    assert not _store_fault(refused)
