"""The events of a save go into SQLite with one statement (``adapters/sqlite_insert``; more
than 200 in eventsourcing's transaction, one statement per 200): each keeps the notification
id the file holds, and a refused row still refuses the whole save."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError

from proofqueue import ProofQueue, Settings
from proofqueue.adapters import sqlite_insert
from proofqueue.usecases import submit

TARGET = "0xProvider/logo"


def _prepared(pq: ProofQueue, count: int, prefix: str) -> list[object]:
    return [
        submit.prepare(pq.parts, f"{prefix}-{n}", "agent-7", TARGET, {"n": n})[1]
        for n in range(count)
    ]


def _rowids(path: Path) -> dict[tuple[str, int], int]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT rowid, originator_id, originator_version FROM stored_events")
        return {(o, v): n for n, o, v in rows}


@pytest.mark.parametrize("count", [2, sqlite_insert.CHUNK + 37])
def test_each_saved_event_keeps_the_notification_id_the_file_holds(
    tmp_path: Path, count: int
) -> None:
    path = tmp_path / "pq.db"
    with ProofQueue(Settings(store=str(path))) as pq:
        pq.submit("before", actor="agent-7", target=TARGET)  # ids do not start at 1
        recordings = pq.parts.log.save(*_prepared(pq, count, "r"))
    stored = _rowids(path)
    assert len(recordings) == count
    for recording in recordings:
        event = recording.domain_event
        assert recording.notification.id == stored[(event.originator_id.hex, 1)]
    ids = [r.notification.id for r in recordings]
    assert ids == list(range(ids[0], ids[0] + count))


def test_a_refused_row_refuses_the_whole_save(tmp_path: Path) -> None:
    path = tmp_path / "pq.db"
    with ProofQueue(Settings(store=str(path))) as pq:
        pq.submit("r-3", actor="agent-7", target=TARGET, params={"n": 3})
        before = _rowids(path)
        with pytest.raises(IntegrityError):
            pq.parts.log.save(*_prepared(pq, 5, "r"))
        assert _rowids(path) == before
        assert [r.request_id for r in pq.list()] == ["r-3"]
