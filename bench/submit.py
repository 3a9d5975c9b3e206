"""Figure 1: durable submit throughput against raw sqlite3 inserts.

proofqueue: ``ProofQueue(Settings(store=file)).submit`` with no vendor URL, so each intent is
recorded QUEUED and acknowledged only once its event is committed. The reference inserts one
row of the same size per commit into a table shaped like eventsourcing's ``stored_events``,
in WAL mode with the ``synchronous`` setting read off eventsourcing's own connection (it sets
none, so it is SQLite's default; WAL mode it does set). The same submits on a ``:memory:``
store show what the submit path costs with no disk at all: its CPU ceiling.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from typing import Any

from bench.intents import ACTOR, TARGET, params, request_id
from proofqueue import ProofQueue, Settings

# Untimed submits (and raw rows) first: the first hundred or so submits of a new process
# run at a third to half the speed of the rest (measured in 250s: 1,053/s, then 2,800-3,800/s).
WARMUP = 200
RAW_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER,"
    " topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
)


def _row_sizes(store: str) -> tuple[float, float]:
    with sqlite3.connect(store) as conn:
        state, topic = conn.execute(
            "SELECT AVG(LENGTH(state)), AVG(LENGTH(topic)) FROM stored_events"
        ).fetchone()
    return float(state), float(topic)


def proofqueue_submits(store: str, count: int) -> dict[str, Any]:
    """``count`` timed submits after ``WARMUP`` untimed ones."""
    with ProofQueue(Settings(store=store)) as pq:
        for i in range(WARMUP):
            pq.submit(request_id(1_000_000 + i), actor=ACTOR, target=TARGET, params=params(i))
        before = pq.parts.log.recorder.max_notification_id() or 0
        cpu, started = time.process_time(), time.perf_counter()
        for i in range(count):
            receipt = pq.submit(request_id(i), actor=ACTOR, target=TARGET, params=params(i))
            if receipt.status != "QUEUED":
                raise RuntimeError(f"expected QUEUED, got {receipt.status}")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        events = (pq.parts.log.recorder.max_notification_id() or 0) - before
        with pq.parts.log.factory.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            cursor.execute("PRAGMA synchronous")
            synchronous = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA journal_mode")
            journal = str(cursor.fetchone()[0])
    state_bytes, topic_bytes = _row_sizes(store) if store != ":memory:" else (0.0, 0.0)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,  # user + system, the whole process
        "intents": count,
        "events": events,
        "state_bytes": state_bytes,
        "topic_bytes": topic_bytes,
        "synchronous": synchronous,
        "journal_mode": journal,
    }


def raw_inserts(
    path: str, count: int, state_bytes: int, topic_bytes: int, synchronous: int
) -> dict[str, Any]:
    """``count`` rows, one commit each, after ``WARMUP`` untimed ones."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        journal = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        conn.execute(f"PRAGMA synchronous={int(synchronous)}")
        conn.execute(RAW_SCHEMA)
        topic = "t" * topic_bytes
        rows = [(uuid.uuid4().hex, 1, topic, os.urandom(state_bytes)) for _ in range(count)]
        for _ in range(WARMUP):
            conn.execute("BEGIN")
            conn.execute(
                "INSERT INTO stored_events VALUES (?,?,?,?)",
                (uuid.uuid4().hex, 1, topic, os.urandom(state_bytes)),
            )
            conn.execute("COMMIT")
        cpu, started = time.process_time(), time.perf_counter()
        for row in rows:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO stored_events VALUES (?,?,?,?)", row)
            conn.execute("COMMIT")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        setting = int(conn.execute("PRAGMA synchronous").fetchone()[0])
    finally:
        conn.close()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": count,
        "synchronous": setting,
        "journal_mode": journal,
    }
