"""The worker loop: follows the views and hands due work to the process manager.

Each round catches the views up, lets the breaker tick, then hands out reads of submitted
jobs and due attempts to a pool of at most ``concurrency`` calls in flight. While the
breaker is DEGRADED nothing is sent; while RECOVERING only its probes are.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from proofqueue.domain.breaker import BreakerState
from proofqueue.ports import Views
from proofqueue.process.guard import BreakerGuard
from proofqueue.process.manager import ProcessManager

log = logging.getLogger("proofqueue.worker")


@dataclass
class Worker:
    manager: ProcessManager
    views: Views
    guard: BreakerGuard
    clock: Callable[[], datetime]
    concurrency: int
    idle_s: float
    name: str
    _inflight: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)
    _pick: random.Random = field(default_factory=random.Random)

    def run(self, stop: threading.Event) -> None:
        """Dispatch until ``stop`` is set; waits for calls in flight before returning."""
        width = self.concurrency
        log.info("worker %s started (%d in flight at most)", self.name, width)
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="pq-call") as pool:
            while not stop.is_set():
                try:
                    busy = self.step(pool, width)
                except Exception:  # the store or the network failed: log, wait, go on
                    log.exception("worker round failed; trying again in 1 s")
                    stop.wait(1.0)
                    continue
                if not busy:
                    self._wake.wait(self.idle_s)  # a call finished, or time passed
                    self._wake.clear()
        log.info("worker %s stopped", self.name)

    def step(self, pool: ThreadPoolExecutor, width: int) -> bool:
        """One round: catch up, let the breaker tick, hand out due work. True if busy."""
        self.views.catch_up()
        state = self.guard.sync()
        free = width - len(self._inflight)
        if free <= 0 or state == BreakerState.DEGRADED:
            return False
        probing = state != BreakerState.OK
        # Reads of submitted jobs first, with up to half the free slots: a job the vendor has
        # finished should not wait behind a whole backlog of creates.
        handed = self._follow_jobs(pool, max(1, free // 2), probing=probing)
        limit = free - handed if not probing else self.guard.policy.probes
        started = 0
        for request_id in self._candidates(limit):
            if started >= limit:
                break
            if self._start(pool, request_id, self.manager.attempt, request_id):
                started += 1
        handed += started
        if handed < free:
            handed += self._follow_jobs(pool, free - handed, probing=probing)
        return handed > 0

    def _follow_jobs(self, pool: ThreadPoolExecutor, free: int, *, probing: bool) -> int:
        """Read submitted jobs whose next read is due. While the breaker is RECOVERING each
        read is a probe, so reads can bring it back to OK when no attempt is due."""
        jobs = self.views.submitted(1000)
        self.manager.forget_polls({request_id for request_id, _ in jobs})
        handed = 0
        for request_id, job_id in jobs:
            if handed >= free:
                break
            if request_id in self._inflight or self.manager.poll_in(request_id) > 0:
                continue
            if probing and not self.guard.admit():
                break
            if self._start(pool, request_id, self.manager.follow, request_id, job_id):
                handed += 1
            elif probing:
                self.guard.unsent()
        return handed

    def _candidates(self, wanted: int) -> list[str]:
        """Due intents, oldest first. Workers sharing a store would all reach for the same
        oldest few, so each takes a random pick among the oldest ``4 * wanted``."""
        window = self.views.due(self.clock(), 4 * wanted + len(self._inflight))
        fresh = [request_id for request_id in window if request_id not in self._inflight]
        if len(fresh) > wanted:
            picked = set(self._pick.sample(fresh, wanted))
            fresh = [request_id for request_id in fresh if request_id in picked]
        return fresh

    def _start(
        self, pool: ThreadPoolExecutor, key: str, fn: Callable[..., None], *args: Any
    ) -> bool:
        with self._lock:
            if key in self._inflight:
                return False
            self._inflight.add(key)
        future: Future[None] = pool.submit(fn, *args)
        future.add_done_callback(lambda f: self._done(key, f))
        return True

    def _done(self, key: str, future: Future[None]) -> None:
        with self._lock:
            self._inflight.discard(key)
        self._wake.set()
        error = future.exception()
        if error is not None:
            log.error("work on %s failed: %s", key, error, exc_info=error)
