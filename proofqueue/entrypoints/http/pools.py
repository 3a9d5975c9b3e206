"""The threads the HTTP API's handlers run blocking work in, so the event loop never waits.

``Pools`` hands short store calls to anyio's worker threads, long ones (verify all,
replay) to a pool of two, and vendor attempts to a bounded pool of their own
(``Settings.concurrency`` threads) that no request waits for. ``Handlers`` is the base of
each group of route handlers: the ProofQueue and the pools they share.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from proofqueue.api import ProofQueue
from proofqueue.domain.receipt import Receipt

log = logging.getLogger("proofqueue.http")

T = TypeVar("T")

# Attempts waiting for a thread of the vendor pool; beyond this a submit leaves its intent to
# the worker rather than queueing more work in memory.
MAX_PENDING_ATTEMPTS = 1000

# Threads for the store calls of submits (see ``Pools.submits``).
POLL_THREADS = 8


class Pools:
    """The thread pools of one app over one ProofQueue."""

    def __init__(self, pq: ProofQueue) -> None:
        self.pq = pq
        concurrency = pq.settings.concurrency
        self.vendor_pool = ThreadPoolExecutor(concurrency, thread_name_prefix="pq-http-attempt")
        self.slow_pool = ThreadPoolExecutor(2, thread_name_prefix="pq-http-slow")
        self.pending = 0
        self.lock = threading.Lock()
        self._poll_limiter: anyio.CapacityLimiter | None = None

    def close(self) -> None:
        """Drop attempts not started yet; wait for those in flight (bounded by the vendor
        client's timeouts). The worker picks up whatever was left."""
        self.vendor_pool.shutdown(wait=True, cancel_futures=True)
        self.slow_pool.shutdown(wait=True, cancel_futures=True)

    async def short(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A short, store-only call, in anyio's worker threads."""
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    async def submits(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A submit's store calls (recording it, looking at its receipt while it waits), in
        a few threads of their own: however many submits arrive or wait, they never crowd
        out other requests (health, auth, reads)."""
        if self._poll_limiter is None:
            self._poll_limiter = anyio.CapacityLimiter(POLL_THREADS)
        call = functools.partial(fn, *args, **kwargs)
        return await anyio.to_thread.run_sync(call, limiter=self._poll_limiter)

    async def slow(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A long store-only call (verify all, replay), two at a time at most."""
        future = self.slow_pool.submit(functools.partial(fn, *args, **kwargs))
        return await asyncio.wrap_future(future)

    async def drive(self, receipt: Receipt, wait: float) -> Receipt:
        """Start a recorded intent's first attempt (the request does not wait for it) and
        poll its receipt, sleeping in the event loop, until final or ``wait`` is spent."""
        if receipt.is_final:
            return receipt
        self.start_attempt(receipt.request_id, wait)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        pause = 0.05
        while not receipt.is_final:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 1.5, 0.5)
            receipt = await self.submits(self.pq.receipt, receipt.request_id)
        return receipt

    def start_attempt(self, request_id: str, follow: float) -> None:
        """Attempt (and follow) an intent in the vendor pool; the request does not wait."""
        if self.pq.parts.manager is None:
            return
        with self.lock:
            if self.pending >= MAX_PENDING_ATTEMPTS:
                return  # the worker will attempt it
            self.pending += 1

        def run() -> None:
            try:
                self.pq.attempt(request_id, follow=follow)
            except Exception:
                log.exception("attempt of %r failed", request_id)
            finally:
                with self.lock:
                    self.pending -= 1

        try:
            self.vendor_pool.submit(run)
        except RuntimeError:  # shutting down
            with self.lock:
                self.pending -= 1


class Handlers:
    """A group of route handlers over one ProofQueue, with the pools they run calls in."""

    def __init__(self, pq: ProofQueue, pools: Pools) -> None:
        self.pq = pq
        self.pools = pools
