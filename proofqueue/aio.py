"""``AsyncProofQueue``: proofqueue for asyncio programs (agent runtimes), async-native.

    async with AsyncProofQueue(Settings(store="pq.db", vendor_url=...)) as apq:
        async with apq.worker():               # buys in this process, as an asyncio task
            receipt = await apq.submit("order-42", actor="agent-7",
                                       target="0xProvider/logo", params={...}, wait=5)
            receipt = await apq.wait("order-42", timeout=30)

What runs where:

- The event loop is never blocked. The store's short reads and writes run in a small pool
  of threads of this object's own (``threads``), never in the loop's default executor.
  Validating, sanitizing and sealing a submit's params is CPU work done on the loop, in
  slices of at most 2 ms (a thread doing it would hold the interpreter lock against the
  loop for as long).
- No call holds a thread while it *waits*: ``wait`` and ``submit(wait=...)`` await a future
  that one watcher task resolves when the intent settles (it reads the log's new events
  each ``poll_s``). Cancelling such a call stops its wait at once.
- Concurrent ``submit`` calls are recorded in group commits: those arriving within
  ``window_s`` (or while a commit is under way) share one transaction; one bad item (invalid,
  or an idempotency conflict) fails only its own call.
- The first attempt of an async submit is the worker's, not the caller's: the worker task
  (``worker()`` / ``start_worker()``) is woken as soon as the intent is recorded, claims it
  in its next round (one commit for all the round's claims) and calls the vendor from its
  own pool of ``concurrency`` threads, under the same claims, leases and fencing as every
  worker, so nothing is lost and nothing is bought twice. Without a worker task here, a
  worker process on the same store buys it; with no worker anywhere it waits QUEUED.
- While the breaker is not OK (or the vendor is held, or no vendor is set), ``submit``
  answers at once, as ``ProofQueue.submit`` does: waiting could not help.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from proofqueue.api import ProofQueue
from proofqueue.bootstrap import Components, utcnow
from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.errors import ConfigurationError, Refused
from proofqueue.domain.receipt import Receipt
from proofqueue.facade.grouping import Closed, GroupCommit
from proofqueue.facade.offload import StorePool
from proofqueue.facade.settling import Settlements
from proofqueue.facade.worker_task import run_worker
from proofqueue.ports import Sealer, Vendor
from proofqueue.process.worker import Worker
from proofqueue.settings import Settings
from proofqueue.usecases import submit as submitting
from proofqueue.usecases.batch import Item, Outcome, Prepared, prepare_item, record_prepared

P = ParamSpec("P")
R = TypeVar("R")


def _off_loop(
    method: Callable[Concatenate[ProofQueue, P], R],
) -> Callable[Concatenate[AsyncProofQueue, P], Coroutine[object, object, R]]:
    """The awaitable form of a ``ProofQueue`` read: the same arguments and answer, run in
    the store's threads."""

    async def call(self: AsyncProofQueue, /, *args: P.args, **kwargs: P.kwargs) -> R:
        pq = self.sync
        return await self._offload(lambda: method(pq, *args, **kwargs))

    functools.update_wrapper(call, method)  # its name and signature, for help()
    call.__qualname__ = f"AsyncProofQueue.{method.__name__}"
    call.__doc__ = f"Awaitable ``ProofQueue.{method.__name__}``. {method.__doc__ or ''}"
    return call


def may_attempt(parts: Components) -> bool:
    """Whether a new intent may be attempted now: a vendor is set, the breaker is OK and
    no operator holds the vendor (what ``ProofQueue.submit`` asks before its attempt)."""
    guard = parts.guard
    return not (
        parts.manager is None
        or guard.sync(drive=False) != BreakerState.OK
        or guard.held is not None
    )


class AsyncProofQueue:
    """Records intents, buys them from the vendor once, proves what happened: for asyncio.

    ``AsyncProofQueue(settings, vendor=..., sealer=..., clock=..., rand=..., worker_name=...)``
    takes what ``ProofQueue`` takes; the store is opened by ``async with`` (or ``await
    open()``) off the loop and closed by leaving it (``await aclose()``). ``window_s``: how
    long the first submit after a quiet spell waits for others to share its commit;
    ``poll_s``: how often waiters look at the log; ``threads``: the store's threads.
    ``sync`` is the ``ProofQueue`` underneath, for anything not offered here.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        vendor: Vendor | None = None,
        sealer: Sealer | None = None,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] | None = None,
        worker_name: str | None = None,
        window_s: float = 0.002,
        poll_s: float = 0.05,
        threads: int = 3,
    ) -> None:
        self._make = functools.partial(
            ProofQueue,
            settings,
            vendor=vendor,
            sealer=sealer,
            clock=clock,
            rand=rand,
            worker_name=worker_name,
        )
        self._pq: ProofQueue | None = None
        self._closed = False
        self._offload = StorePool(threads)
        self._groups = GroupCommit(
            self._prepare, self._record, window_s=window_s, recorded=self._recorded
        )
        self._settlements = Settlements(
            lambda: self.sync.parts, self._receipt, self._offload, poll_s=poll_s
        )
        self._worker: Worker | None = None
        self._worker_task: asyncio.Task[None] | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> AsyncProofQueue:
        """Settings from PROOFQUEUE_* environment variables; keywords override them."""
        return cls(Settings.from_env(None, **overrides))

    # -- lifetime -----------------------------------------------------------------------

    async def open(self) -> AsyncProofQueue:
        """Open the store (off the loop). ``async with`` calls it. An ``AsyncProofQueue``
        serves one event loop, and is not opened again once closed."""
        if self._closed:
            raise Closed
        if self._pq is None:
            self._pq = await self._offload(self._make)
        return self

    async def aclose(self) -> None:
        """Stop the worker task (its calls in flight end and are recorded), record the
        submits handed in already, end the waits (``CancelledError``), close the store: all
        off the loop. A worker's error is raised once all that is done."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.stop_worker()
        finally:
            await self._groups.aclose()
            self._settlements.cancel_all()
            pq, self._pq = self._pq, None
            if pq is not None:
                await self._offload(pq.close)
            self._offload.shutdown()

    async def __aenter__(self) -> AsyncProofQueue:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def group_commits(self) -> int:
        """How many group commits this object's submits took so far (one each, when none of
        the group's request_ids existed already)."""
        return self._groups.commits

    @property
    def sync(self) -> ProofQueue:
        """The ``ProofQueue`` underneath (its calls block: not for the event loop)."""
        if self._pq is None:
            raise Closed
        return self._pq

    # -- submit and wait ----------------------------------------------------------------

    async def submit(
        self,
        request_id: str,
        *,
        actor: str,
        target: str,
        params: Mapping[str, object] | None = None,
        wait: float = 0.0,
    ) -> Receipt:
        """Record an intent (once per request_id, forever; in a group commit with the
        submits made at the same moment) and wait up to ``wait`` seconds for it to settle.

        The worker task is woken to attempt it at once. While the breaker is not OK (or no
        vendor is set) the receipt comes at once, QUEUED. Cancelling the call stops its
        wait at once; the intent stays recorded. Raises ``InvalidInput``,
        ``SecretNeedsKey`` or ``IdempotencyConflict`` as ``ProofQueue.submit`` does."""
        seconds = submitting.parse_wait(wait, submitting.MAX_WAIT_S)
        self.sync  # noqa: B018  (raises Closed before anything is handed in)
        recorded, attempt = await self._groups.submit(Item(request_id, actor, target, params))
        receipt = recorded.receipt
        if not attempt or seconds <= 0:
            return receipt
        return await self._settlements.wait(
            receipt.request_id, seconds, first=receipt, since=recorded.position
        )

    async def wait(self, request_id: str, timeout: float) -> Receipt:
        """The receipt once the intent is SETTLED or FAILED, or as it stands after
        ``timeout`` seconds. Holds no thread while it waits; cancelling it stops the wait."""
        seconds = submitting.parse_wait(timeout, submitting.MAX_WAIT_S)
        self.sync  # noqa: B018  (raises Closed)
        return await self._settlements.wait(request_id, seconds)

    def _prepare(self, item: Item) -> Prepared | Exception:
        return prepare_item(self.sync.parts, item)

    async def _record(self, items: Sequence[Prepared | Exception]) -> tuple[list[Outcome], bool]:
        parts = self.sync.parts

        def record() -> tuple[list[Outcome], bool]:
            return record_prepared(parts, items), may_attempt(parts)

        return await self._offload(record)

    def _recorded(self, attempt: bool) -> None:
        if attempt and self._worker is not None:
            self._worker.nudge()

    def _receipt(self, request_id: str) -> Receipt:
        return self.sync.receipt(request_id)

    # -- the worker ---------------------------------------------------------------------

    def start_worker(self, concurrency: int | None = None) -> asyncio.Task[None]:
        """Run the process manager in this process as an asyncio task, until the task is
        cancelled (``stop_worker``) or this object is closed. Cancelling never blocks the
        loop: the worker stops cooperatively and its calls in flight end off the loop.
        One worker task per ``AsyncProofQueue``."""
        if self._worker_task is not None and not self._worker_task.done():
            raise Refused("a worker task already runs for this AsyncProofQueue")
        pq = self.sync
        manager = pq.parts.manager
        if manager is None:
            raise ConfigurationError(
                "the worker needs a vendor: set PROOFQUEUE_VENDOR_URL (or pass vendor=...)"
            )
        settings = pq.settings
        self._worker = Worker(
            manager=manager.for_worker(),
            views=pq.parts.views,
            guard=pq.parts.guard,
            clock=pq.parts.clock,
            concurrency=concurrency or settings.concurrency,
            idle_s=settings.idle_s,
            name=pq.parts.worker_name,
            lease_s=settings.lease_s,
            checkpoint=pq.sign_checkpoint_if_due,
        )
        self._worker_task = asyncio.create_task(run_worker(self._worker), name="proofqueue-worker")
        return self._worker_task

    async def stop_worker(self) -> None:
        """Stop the worker task, if one runs, and wait (on the loop) until it has stopped."""
        task, self._worker_task = self._worker_task, None
        self._worker = None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this caller itself is being cancelled

    @asynccontextmanager
    async def worker(self, concurrency: int | None = None) -> AsyncIterator[asyncio.Task[None]]:
        """Run the worker task while the block runs; leaving the block stops it (awaited
        on the loop, never blocking it). A worker error is raised when the block ends."""
        task = self.start_worker(concurrency)
        try:
            yield task
        finally:
            if task is self._worker_task:
                await self.stop_worker()

    # -- reads, awaitable ---------------------------------------------------------------

    receipt = _off_loop(ProofQueue.receipt)
    show = _off_loop(ProofQueue.show)
    health = _off_loop(ProofQueue.health)
    counts = _off_loop(ProofQueue.counts)
    workers = _off_loop(ProofQueue.workers)
    damaged = _off_loop(ProofQueue.damaged)
    verify = _off_loop(ProofQueue.verify)
    catch_up = _off_loop(ProofQueue.catch_up)
    list = _off_loop(ProofQueue.list)
