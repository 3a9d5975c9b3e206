"""Durable submits, one caller and several at once, against raw one-row SQLite commits.

Every ``submit`` is acknowledged only once its event is committed, on a SQLite file in WAL
mode with eventsourcing's own connection settings. The raw reference
(``bench.submit.raw_inserts``) commits one row of the same size per transaction in WAL mode
with the ``synchronous`` setting read off proofqueue's connection, so both make the same
durability promise per acknowledged item. Concurrent callers are threads of one process
calling ``pq.submit`` at once (group commit lets those arriving together share a commit:
the first prepares and saves them all, the others wait).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.intents import ACTOR, TARGET, params, request_id
from bench.submit import WARMUP
from proofqueue import ProofQueue, Settings


def concurrent_submits(store: str, count: int, threads: int) -> dict[str, Any]:
    """``count`` submits split over ``threads`` threads started together."""
    with ProofQueue(Settings(store=store)) as pq:
        for i in range(WARMUP):
            pq.submit(request_id(2_000_000 + i), actor=ACTOR, target=TARGET, params=params(i))
        commits_before = pq._submits.commits
        before = pq.parts.log.recorder.max_notification_id() or 0
        gate = threading.Barrier(threads + 1)
        failures: list[BaseException] = []

        def run(first: int) -> None:
            gate.wait()
            try:
                for i in range(first, count, threads):
                    receipt = pq.submit(request_id(i), actor=ACTOR, target=TARGET, params=params(i))
                    if receipt.status != "QUEUED":
                        raise RuntimeError(f"expected QUEUED, got {receipt.status}")
            except BaseException as exc:  # reported below
                failures.append(exc)

        workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        gate.wait()
        cpu, started = time.process_time(), time.perf_counter()
        for worker in workers:
            worker.join()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if failures:
            raise failures[0]
        events = (pq.parts.log.recorder.max_notification_id() or 0) - before
        commits = pq._submits.commits - commits_before
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,  # user + system, every thread of the process
        "intents": count,
        "events": events,
        "threads": threads,
        "commits": commits,
    }
