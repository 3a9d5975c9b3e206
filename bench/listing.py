"""Figure 6: the operator list's latency, as an operator's process sees it.

Each ``pq.list`` call first brings the views up to date (nothing to apply here) and then
queries them. Times are per call, after five untimed calls.
"""

from __future__ import annotations

import time
from typing import Any

from bench.stats import percentile
from proofqueue import ProofQueue, Settings

WARMUP = 5
FILTERS: dict[str, tuple[str, ...]] = {
    "none": (),
    "QUEUED,RETRYING": ("QUEUED", "RETRYING"),
    "SUBMITTED": ("SUBMITTED",),
    "FAILED": ("FAILED",),
}


def list_latency(store: str, calls: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with ProofQueue(Settings(store=store)) as pq:
        results["counts"] = pq.counts()
        for name, statuses in FILTERS.items():
            for _ in range(WARMUP):
                pq.list(status=statuses, limit=100)
            times: list[float] = []
            rows = 0
            for _ in range(calls):
                started = time.perf_counter()
                rows = len(pq.list(status=statuses, limit=100))
                times.append(time.perf_counter() - started)
            results[name] = {
                "p50_ms": percentile(times, 0.5) * 1000,
                "p99_ms": percentile(times, 0.99) * 1000,
                "rows": rows,
                "calls": calls,
            }
    return results
