"""The measurements of ``make bench-scale``, each run in a fresh process (``bench.child``).

- ``catch_up``: the live views brought up to date from the whole log (a new store's first
  catch-up), events per second;
- ``verify_all``: ``pq.verify()`` of every chain, its time and the process's peak RSS;
- ``breaker_first_load``: the first ``breaker_log`` of a process (from the views' state row,
  or, with ``whole=True``, from every event as before), its time and the RSS it added;
- ``read_latency``: ``health``, ``counts`` and the operator list (first page; 50,000 rows
  deep by cursor and by offset) per call, as an operator's process sees them.
"""

from __future__ import annotations

import time
from typing import Any

from bench.machine import vm_kib
from bench.scale_log import VENDOR
from bench.stats import percentile
from proofqueue import ProofQueue, Settings

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
