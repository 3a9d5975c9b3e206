"""Figure 4 (and the replay half of figure 5): rebuilding every view from the log, against
reading the log and nothing else.

``pq.replay()`` reads the log in pages of 10,000 (one plain query each), decodes each event
and applies it to fresh views in a new SQLite file, one transaction per batch. The
references read the same rows: ``app.recorder.select_notifications`` in batches of 1000
(eventsourcing's read path), and a plain sqlite3 ``SELECT`` of ``stored_events`` in rowid
order. A third pass reads with ``select_notifications`` and decodes every event
(``app.mapper.to_domain_event``) and applies nothing: the part of replay's cost that any
rebuild from this log must pay.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from bench.machine import vm_kib
from proofqueue import ProofQueue, Settings

BATCH = 1000


def replay(store: str) -> dict[str, Any]:
    with ProofQueue(Settings(store=store)) as pq:
        base_rss = vm_kib("VmRSS")
        started = time.perf_counter()
        report = pq.replay()
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "events": report.events,
        "base_rss_kib": base_rss,
        "peak_rss_kib": vm_kib("VmHWM"),
    }


def _sqlite_pass(store: str) -> tuple[int, float]:
    conn = sqlite3.connect(store)
    try:
        started = time.perf_counter()
        cursor = conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state"
            " FROM stored_events ORDER BY rowid"
        )
        rows = 0
        while batch := cursor.fetchmany(BATCH):
            rows += len(batch)
        return rows, time.perf_counter() - started
    finally:
        conn.close()


def raw_read(store: str) -> dict[str, Any]:
    """One untimed pass to warm the page cache as replay's runs find it, then both reads."""
    _sqlite_pass(store)
    with ProofQueue(Settings(store=store)) as pq:
        recorder = pq.parts.log.recorder
        started = time.perf_counter()
        notes = 0
        start = 1
        while batch := recorder.select_notifications(start=start, limit=BATCH):
            notes += len(batch)
            start = batch[-1].id + 1
        es_seconds = time.perf_counter() - started
        mapper = pq.parts.log.mapper
        started = time.perf_counter()
        start = 1
        while batch := recorder.select_notifications(start=start, limit=BATCH):
            for note in batch:
                mapper.to_domain_event(note)
            start = batch[-1].id + 1
        decode_seconds = time.perf_counter() - started
    rows, sqlite_seconds = _sqlite_pass(store)
    return {
        "events": notes,
        "seconds": es_seconds,
        "decode_seconds": decode_seconds,
        "sqlite_rows": rows,
        "sqlite_seconds": sqlite_seconds,
    }
