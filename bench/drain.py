"""Figure 3 (and the worker half of figure 5): a worker draining a backlog.

The backlog is queued with no vendor URL (``bench.intents.build_store``); then a worker is
started against a healthy simulator and runs until ``count`` more intents are SETTLED or
FAILED, or for ``window_s`` seconds. Time runs from the worker's start to the last
``Settled`` event. The peak RSS is this process's alone (the simulator runs in a process of
its own), and ``base_rss_kib`` is the RSS once the store is open, before the worker starts.
"""

from __future__ import annotations

import time
from typing import Any

from bench.e2e import CONCURRENCY, settings, terminal_counts
from bench.machine import vm_kib
from proofqueue import ProofQueue


def _first_settled(pq: ProofQueue, since: float) -> float | None:
    rows = pq.parts.db.query(
        "SELECT MIN(settled_at) AS first FROM pq_intents WHERE settled_at >= ?", (since,)
    )
    first = rows[0]["first"]
    return None if first is None else float(first) - since


def drain(
    store: str,
    url: str,
    timeout_s: float,
    count: int | None = None,
    window_s: float | None = None,
) -> dict[str, Any]:
    with ProofQueue(settings(store, url)) as pq:
        pq.catch_up()
        settled0, failed0, _ = terminal_counts(pq)
        events0 = pq.parts.log.recorder.max_notification_id() or 0
        base_rss = vm_kib("VmRSS")
        limit = time.monotonic() + min(timeout_s, window_s or timeout_s)
        with pq.worker(concurrency=CONCURRENCY):
            started = time.time()
            while True:
                settled, failed, last = terminal_counts(pq)
                done = settled - settled0 + failed - failed0
                if (count is not None and done >= count) or time.monotonic() > limit:
                    break
                time.sleep(0.1)
        stopped = time.time()
        pq.catch_up()
        settled, failed, last = terminal_counts(pq)
        events = (pq.parts.log.recorder.max_notification_id() or 0) - events0
        first = _first_settled(pq, started)
    return {
        "seconds": (last if last is not None and last >= started else stopped) - started,
        "ran_s": stopped - started,
        "first_settled_s": first,
        "settled": settled - settled0,
        "failed": failed - failed0,
        "events": events,
        "base_rss_kib": base_rss,
        "peak_rss_kib": vm_kib("VmHWM"),
    }
