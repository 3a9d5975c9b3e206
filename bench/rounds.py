"""Figure 9: what one worker round costs with a large backlog waiting.

On a copy of a SQLite store of ``count`` queued intents (``bench.intents.build_store``), with
the vendor held (``pq.hold_vendor``: no vendor call is made), a ``Worker`` built as
``pq.run_worker`` builds it is stepped ``rounds`` times (after 5 untimed rounds). A held
round catches the views up, beats when a second has passed since the last heartbeat (the
timed rounds include those beats) and reads the breaker's log; it queries no work. The
queries a round makes when the vendor is not held are timed on their own, as one round
would make them: ``views.catch_up()`` (the leading worker's, in a thread of its own) and
``views.work(now, 32, slots)`` (the jobs to follow, the claims and 32 = 4 x 8 free calls
due intents, in one read), for one worker owning all 16 slots and for the first of four
workers (4 slots). Then
``pq.health()`` and ``pq.counts()``, each ``calls`` times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.stats import percentile
from proofqueue import ProofQueue, Settings
from proofqueue.process.worker import Worker
from proofqueue.projections.queries import slots_of
from proofqueue.testing import FakeVendor

WARMUP = 5
WIDTH = 8


def _time(fn: Callable[[], object], times: int) -> dict[str, float]:
    for _ in range(WARMUP):
        fn()
    took = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        took.append(time.perf_counter() - started)
    return {"p50_ms": percentile(took, 0.5) * 1000, "p99_ms": percentile(took, 0.99) * 1000}


def worker_rounds(store: str, rounds: int, calls: int) -> dict[str, Any]:
    vendor = FakeVendor()
    results: dict[str, Any] = {}
    with ProofQueue(Settings(store=store), vendor=vendor) as pq:
        parts = pq.parts
        if parts.manager is None:
            raise RuntimeError("no process manager although a vendor was given")
        pq.hold_vendor(reason="benchmark: rounds with nothing sent", operator="bench")
        results["counts"] = pq.counts()
        worker = Worker(
            manager=parts.manager,
            views=parts.views,
            guard=parts.guard,
            clock=parts.clock,
            concurrency=WIDTH,
            idle_s=pq.settings.idle_s,
            name=parts.worker_name,
            lease_s=pq.settings.lease_s,
        )
        with ThreadPoolExecutor(max_workers=WIDTH) as pool:
            results["step_held"] = _time(lambda: worker.step(pool, WIDTH), rounds)
        results["slots_after"] = len(worker.slots or [])
        views = parts.views
        for name, slots in (("all", slots_of(0, 1)), ("quarter", slots_of(0, 4))):

            def queries(slots: list[str] = slots) -> None:
                views.catch_up()
                views.work(parts.clock(), 4 * WIDTH, slots)

            results[f"queries_{name}"] = _time(queries, rounds)
            results[f"due_rows_{name}"] = len(views.work(parts.clock(), 4 * WIDTH, slots).due)
            results[f"work_{name}"] = _time(
                lambda slots=slots: views.work(parts.clock(), 4 * WIDTH, slots), rounds
            )
        results["health"] = _time(pq.health, calls)
        results["count_calls"] = _time(pq.counts, calls)
    results["vendor_calls"] = len(vendor.calls)
    return results
