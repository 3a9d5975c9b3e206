"""Figure 2: end-to-end throughput, submit to SETTLED, against the simulator.

Every contender buys the same ``count`` intents with the same concurrency (8) and the same
read schedule (``bench.flow``):

- proofqueue, worker: 8 caller threads ``submit`` (which makes the create at once while the
  breaker is OK) and ``pq.worker(concurrency=8)`` follows the jobs to SETTLED;
- proofqueue, submit(wait): 8 caller threads each ``submit(..., wait=60)``, which follows
  its own job inline, so each thread has one intent in flight like the references;
- plain httpx: 8 threads, each create then read, nothing recorded;
- DBOS Transact (``bench.dbos_flow``).

Time runs from the first submit to the last intent settled (the ``Settled`` event's time).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.flow import POLL_S, TIMEOUT, Schedule, create_job, wait_completed
from bench.intents import ACTOR, TARGET, params, request_id
from bench.machine import vm_kib
from proofqueue import ProofQueue, Settings

CONCURRENCY = 8


def settings(store: str, url: str) -> Settings:
    return Settings(store=store, vendor_url=url, poll_s=POLL_S)


def terminal_counts(pq: ProofQueue) -> tuple[int, int, float | None]:
    """Settled, failed and the last settle time, read from the views the worker keeps."""
    rows = pq.parts.db.query(
        "SELECT SUM(status = 'SETTLED') AS settled, SUM(status = 'FAILED') AS failed,"
        " MAX(settled_at) AS last FROM pq_intents"
    )
    row = rows[0]
    return int(row["settled"] or 0), int(row["failed"] or 0), row["last"]


def proofqueue_worker(store: str, url: str, count: int, timeout_s: float) -> dict[str, Any]:
    with ProofQueue(settings(store, url)) as pq:

        def submit(index: int) -> None:
            pq.submit(request_id(index), actor=ACTOR, target=TARGET, params=params(index))

        with pq.worker(concurrency=CONCURRENCY):
            started = time.time()
            with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="caller") as callers:
                list(callers.map(submit, range(count)))
            submitted = time.time() - started
            deadline = time.monotonic() + timeout_s
            while True:
                settled, failed, last = terminal_counts(pq)
                if settled + failed >= count or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        return {
            "seconds": (last or time.time()) - started,
            "submit_seconds": submitted,
            "settled": settled,
            "failed": failed,
            "peak_rss_kib": vm_kib("VmHWM"),
        }


def proofqueue_inline(store: str, url: str, count: int, timeout_s: float) -> dict[str, Any]:
    with ProofQueue(settings(store, url)) as pq:

        def buy(index: int) -> str:
            receipt = pq.submit(
                request_id(index), actor=ACTOR, target=TARGET, params=params(index), wait=60
            )
            return receipt.status

        started = time.time()
        with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="caller") as callers:
            statuses = list(callers.map(buy, range(count)))
        seconds = time.time() - started
        return {
            "seconds": seconds,
            "settled": statuses.count("SETTLED"),
            "failed": statuses.count("FAILED"),
            "peak_rss_kib": vm_kib("VmHWM"),
        }


def plain_httpx(url: str, count: int, timeout_s: float) -> dict[str, Any]:
    schedule = Schedule()
    with httpx.Client(timeout=TIMEOUT) as client:

        def buy(index: int) -> str:
            job_id = create_job(client, url, request_id(index), index)
            return wait_completed(client, url, job_id, schedule)

        started = time.time()
        with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="caller") as callers:
            deliverables = list(callers.map(buy, range(count)))
        seconds = time.time() - started
    return {
        "seconds": seconds,
        "settled": len(deliverables),
        "failed": 0,
        "peak_rss_kib": vm_kib("VmHWM"),
    }
