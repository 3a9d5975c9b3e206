"""Figure 8: what recording one vendor call in the breaker costs, with a small and a large
shared window.

A real SQLite store (``bootstrap(Settings(store=file), vendor=FakeVendor())``); the shared
window (``pq_calls``, one row per vendor and second) is filled first with ``window_calls``
calls spread over the last ``window_s`` seconds by the store's clock, plus an hour of older
rows (what ``pq_calls`` keeps for health) in the large case only. Then
``BreakerGuard.record`` is timed call by call (``perf_counter_ns`` around each), after
untimed warm-up calls. Most calls only count
in memory; about every ``flush_s`` (0.25 s) one also flushes to the store, adding its calls to
the current second and reading the whole window back. So the median is the in-memory path,
the mean includes the flushes, and the flush itself is timed on its own
(``BreakerGuard.flush``, with one pending call each).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.stats import percentile
from proofqueue.bootstrap import bootstrap
from proofqueue.projections.shared import KEEP_S, store_now
from proofqueue.settings import Settings
from proofqueue.testing import FakeVendor

WARMUP = 200


def _fill(parts: Any, window_calls: int, history: bool) -> int:
    """Spread ``window_calls`` calls (one in 10 failed) over the window's seconds and, with
    ``history``, an hour of older seconds beside them (50 calls each); returns the calls the
    store's window then holds."""
    guard, db = parts.guard, parts.db
    seconds = int(guard.policy.window_s) - 1  # the current second is left to the records
    base, extra = divmod(window_calls, seconds)
    per = [base + (1 if n < extra else 0) for n in range(seconds)]
    now = store_now(db)
    with db.transaction() as cur:
        cur.run("DELETE FROM pq_calls")
        for age in range(1, KEEP_S if history else seconds + 1):
            calls = per[age - 1] if age <= seconds else 50
            cur.run(
                "INSERT INTO pq_calls (vendor, second, calls, failures)"  # noqa: S608  (fixed SQL)
                f" VALUES (?, CAST(FLOOR({now}) AS BIGINT) - ?, ?, ?)",
                (guard.vendor, age, calls, calls // 10),
            )
    return int(guard.flush().calls)


def breaker_record(store: str, window_calls: int, calls: int, history: bool) -> dict[str, Any]:
    parts = bootstrap(Settings(store=store), vendor=FakeVendor())
    try:
        guard = parts.guard
        in_window = _fill(parts, window_calls, history)
        for n in range(WARMUP):
            guard.record(failed=n % 10 == 0, duration_s=0.01)
        times: list[int] = []
        began = time.perf_counter_ns()
        flushes0 = guard._flushes
        for n in range(calls):
            t = time.perf_counter_ns()
            guard.record(failed=n % 10 == 0, duration_s=0.01)
            times.append(time.perf_counter_ns() - t)
        total = time.perf_counter_ns() - began
        flushed = guard._flushes - flushes0
        flush_times: list[int] = []
        for _ in range(200):
            guard._pending = guard._pending.plus(1, 0)
            t = time.perf_counter_ns()
            seen = guard.flush()
            flush_times.append(time.perf_counter_ns() - t)
        # Let the machine judge the window: the breaker must not have tripped (10% failures).
        state = guard.state.value
    finally:
        parts.close()
    return {
        "window_calls": in_window,
        "window_after": int(seen.calls),
        "calls": calls,
        "median_ns": statistics.median(times),
        "p99_ns": percentile(times, 0.99),
        "mean_ns": total / calls,
        "flushes": flushed,
        "flush_median_ns": statistics.median(flush_times),
        "flush_p99_ns": percentile(flush_times, 0.99),
        "state": state,
    }
