"""The measurements of ``make bench-scale``, each run in a fresh process (``bench.child``).

- ``catch_up``: the live views brought up to date from the whole log (a new store's first
  catch-up), events per second;
- ``verify_all``: ``pq.verify()`` of every chain, its time and the process's peak RSS;
- ``breaker_first_load``: the first ``breaker_log`` of a process (from the views' state row,
  or, with ``whole=True``, from every event as before), its time and the RSS it added;
- ``read_latency``: ``health``, ``counts`` and the operator list (first page; 50,000 rows
  deep by cursor and by offset) per call, as an operator's process sees them;
- ``view_writes``: a floor under any replay into these views: the rows each intent has in
  them (its row, its head, its transparency entry), copied from the caught-up views of the
  log into a new store by sqlite3 alone, in replay's batches, nothing decoded or applied.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.machine import vm_kib
from bench.scale_log import VENDOR
from bench.stats import percentile
from proofqueue import ProofQueue, Settings
from proofqueue.projections import batch, order, rebuild
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import Cursor, sqlite_viewdb

WARMUP = 5


def catch_up(store: str) -> dict[str, Any]:
    with ProofQueue(Settings(store=store, create_store=False)) as pq:
        started = time.perf_counter()
        pq.catch_up()
        seconds = time.perf_counter() - started
        events = pq.parts.projector.position()
    return {"seconds": seconds, "events": events}


def verify_all(store: str) -> dict[str, Any]:
    with ProofQueue(Settings(store=store, create_store=False)) as pq:
        base = vm_kib("VmRSS")
        started = time.perf_counter()
        report = pq.verify()
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "events": report.events,
        "intents": report.intents,
        "ok": report.ok,
        "base_rss_kib": base,
        "peak_rss_kib": vm_kib("VmHWM"),
    }


def breaker_first_load(store: str, whole: bool = False) -> dict[str, Any]:
    with ProofQueue(Settings(store=store, create_store=False)) as pq:
        if whole:
            pq.parts.log.breaker_seed = None
        base = vm_kib("VmRSS")
        started = time.perf_counter()
        log = pq.parts.log.breaker_log(VENDOR)
        seconds = time.perf_counter() - started
        grown = vm_kib("VmRSS") - base
    return {"ms": seconds * 1000, "version": log.version if log else 0, "rss_kib": grown}


def _timed(calls: int, call: Any) -> dict[str, float]:
    for _ in range(WARMUP):
        call()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return {"p50_ms": percentile(times, 0.5) * 1000, "p99_ms": percentile(times, 0.99) * 1000}


def read_latency(store: str, calls: int, deep: int = 50_000) -> dict[str, Any]:
    with ProofQueue(Settings(store=store, create_store=False)) as pq:
        counted = pq.counts()
        cursor: str | None = "start"
        walked = 0
        while walked < deep and cursor is not None:
            rows, cursor = pq.page(limit=1000, cursor=cursor)
            walked += len(rows)
        deep_cursor = cursor or "start"
        results: dict[str, Any] = {
            "intents": sum(counted.values()),
            "transitions": pq.parts.log.breaker_log(VENDOR).version,  # type: ignore[union-attr]
            "health": _timed(calls, pq.health),
            "counts": _timed(calls, pq.counts),
            "list_first": _timed(calls, lambda: pq.page(limit=100, cursor="start")),
            "list_cursor_deep": _timed(calls, lambda: pq.page(limit=100, cursor=deep_cursor)),
            "list_offset_deep": _timed(
                max(calls // 10, 5), lambda: pq.list(limit=100, offset=deep)
            ),
        }
    return results


# Each intent's rows in the views, as replay writes them: (select, write) per table, the
# select in the log's order (an intent's row, head and entry are made by its first event).
_PER_INTENT: tuple[tuple[str, Callable[[Cursor, list[Any]], None]], ...] = (
    (
        f"SELECT {', '.join(batch.COLUMNS)} FROM pq_intents ORDER BY queued_at, intent_id",  # noqa: S608
        lambda cur, rows: cur.raw.executemany(cur.db.sql(batch.INSERT_ROW), rows),
    ),
    (
        "SELECT h.aggregate_id, h.version, h.notification_id FROM pq_heads h"
        " JOIN pq_intents i ON i.intent_id = h.aggregate_id ORDER BY i.queued_at, i.intent_id",
        lambda cur, rows: order.write_heads(cur, {key: (v, n) for key, v, n in rows}),
    ),
    (
        "SELECT t.intent_id, t.queued_at FROM pq_tlog_intents t"
        " JOIN pq_intents i ON i.intent_id = t.intent_id ORDER BY i.queued_at, i.intent_id",
        lambda cur, rows: cur.raw.executemany(cur.db.sql(batch.INSERT_TLOG_INTENT), rows),
    ),
)


def view_writes(store: str) -> dict[str, Any]:
    """Each table's rows (of ``store``'s caught-up views) inserted into a new replay store
    in chunks of the intents one replay batch holds, each chunk sorted by key and committed
    as replay commits it (same page cache, no fsync), one table after another (replay writes
    all three in each batch's transaction). Only the inserts are timed."""
    source = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        events = int(source.execute("SELECT MAX(position) FROM pq_position").fetchone()[0])
        intents = int(source.execute("SELECT COUNT(*) FROM pq_intents").fetchone()[0])
        chunk = max(1, round(rebuild.BATCH * intents / events))
        seconds = 0.0
        with tempfile.TemporaryDirectory(prefix="bench-view-writes-") as tmp:
            fresh = sqlite_viewdb(os.path.join(tmp, "views.db"))
            try:
                Projector(None, None, fresh, rebuild=True)  # replay's schema
                for select, write in _PER_INTENT:
                    rows = source.execute(select)
                    while part := rows.fetchmany(chunk):
                        part.sort(key=lambda row: row[0])
                        started = time.perf_counter()
                        with fresh.transaction(soft=True) as cur:
                            cur.run(f"PRAGMA cache_size = -{rebuild.CACHE_KIB}")
                            write(cur, part)
                        seconds += time.perf_counter() - started
            finally:
                fresh.datastore.close()
    finally:
        source.close()
    return {"seconds": seconds, "events": events, "intents": intents, "chunk": chunk}
