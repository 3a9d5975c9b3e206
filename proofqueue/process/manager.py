"""The process manager: moves due intents forward by calling the vendor.

It follows the views (kept up to date from the log), and for each intent whose next attempt
is due it claims the attempt in the log (``AttemptStarted``: optimistic concurrency makes the
claim exclusive), calls the vendor and records what happened (``Submitted``,
``RetryScheduled`` or ``Failed``). Submitted jobs are read until they complete (``Settled``)
or the vendor rejects or expires them (``Failed``). The breaker decides whether a call may
be sent at all; attempts it holds back are not spent. Timers are durable: the next attempt
time is in the log, so a restarted worker picks up exactly what was due.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError

from proofqueue.adapters.log import IntentLog
from proofqueue.adapters.sealing import Sealer
from proofqueue.chaos import maybe_crash
from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.errors import IllegalTransition, IntentNotFound
from proofqueue.domain.intent import Intent, Status
from proofqueue.domain.request import split_target
from proofqueue.domain.sanitize import redact_text, secret_values
from proofqueue.ports import (
    TERMINAL_BAD,
    TERMINAL_OK,
    Accepted,
    Found,
    Job,
    JobOrder,
    LookupUnsupported,
    Permanent,
    Transient,
    Vendor,
)
from proofqueue.process.guard import BreakerGuard
from proofqueue.projections import queries
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import ViewDB
from proofqueue.settings import Settings

log = logging.getLogger("proofqueue.worker")

T = TypeVar("T")


@dataclass
class _Poll:
    """When to read a submitted job next (kept in memory: reads change nothing)."""

    at: float
    interval: float
    misses: int = 0


@dataclass
class Dispatcher:
    app: IntentLog
    views: ViewDB
    projector: Projector
    vendor: Vendor
    guard: BreakerGuard
    sealer: Sealer
    settings: Settings
    clock: Callable[[], datetime]
    worker: str
    rand: Callable[[], float] = field(default=random.random)
    _polls: dict[str, _Poll] = field(default_factory=dict)
    _inflight: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)
    _pick: random.Random = field(default_factory=random.Random)

    # -- one attempt ----------------------------------------------------------------------

    def attempt(self, request_id: str) -> None:
        """Run the next attempt of ``request_id`` if it is due and the breaker allows."""
        intent = self.app.intent(request_id)
        now = self.clock()
        if not intent.is_due(now):
            return
        if not intent.budget_left(now):
            self._give_up(intent, "no attempts or time left", False)
            return
        if not self.guard.admit():
            return
        try:
            intent.start_attempt(worker=self.worker, lease=self._lease, now=now)
            self.app.save(intent)
        except (IntegrityError, IllegalTransition):
            self.guard.unsent()
            return  # another worker claimed it first
        maybe_crash("after_claim")
        note: str | None = None
        if intent.ambiguous:
            found, note = self._reconcile(intent)
            if isinstance(found, Transient):
                self._retry_later(intent, found)
                return
            if found is not None:
                self._submit_found(intent, found, note)
                return
        order = self._order(intent)
        outcome = self._call(lambda: self.vendor.create_job(order))
        if isinstance(outcome, Accepted):
            how = note or ("idempotency-replay" if outcome.replayed else None)
            self._record(
                intent,
                lambda i: i.submit(
                    job_id=outcome.job_id,
                    replayed=outcome.replayed,
                    reconciled=how,
                    now=self.clock(),
                ),
            )
        elif isinstance(outcome, Permanent):
            detail = self._clean(intent, f"vendor refused: {outcome.status} {outcome.detail}")
            self._record(
                intent,
                lambda i: i.fail(
                    reason="permanent", detail=detail, status_code=outcome.status, now=self.clock()
                ),
            )
        else:
            self._retry_later(intent, outcome)

    def _reconcile(self, intent: Intent) -> tuple[Job | Transient | None, str | None]:
        """An earlier attempt may have reached the vendor: look for its job before buying.

        Returns the job found, a Transient when the lookup failed, or None when it is safe
        to send the create again: nothing found, or the vendor has no lookup, and then the
        same Idempotency-Key is all that protects the resend, which the note records."""
        outcome = self._call(lambda: self.vendor.find_jobs(intent.request_id))
        if isinstance(outcome, Found) and len(outcome.jobs) > 1:
            ids = ", ".join(job.job_id for job in outcome.jobs)
            log.warning("%s: the vendor holds %d jobs: %s", intent.request_id, len(ids), ids)
            return outcome.jobs[0], f"lookup: the vendor holds {len(outcome.jobs)} jobs ({ids})"
        if isinstance(outcome, Found) and outcome.jobs:
            return outcome.jobs[0], "lookup"
        if isinstance(outcome, Found):
            return None, "lookup-found-none: resent under the same Idempotency-Key"
        if isinstance(outcome, LookupUnsupported):
            return None, "no-lookup: resent under the same Idempotency-Key"
        if isinstance(outcome, Permanent):
            refused = Transient(
                kind="http",
                status=outcome.status,
                ambiguous=True,
                detail=f"lookup refused: {outcome.detail}",
            )
            return refused, None
        return outcome, None

    def _submit_found(self, intent: Intent, job: Job, note: str | None) -> None:
        self._record(
            intent,
            lambda i: i.submit(
                job_id=job.job_id, replayed=False, reconciled=note, now=self.clock()
            ),
        )

    def _retry_later(self, intent: Intent, outcome: Transient) -> None:
        now = self.clock()
        detail = self._clean(intent, _describe(outcome))
        log.info("%s: attempt %d failed: %s", intent.request_id, intent.attempts, detail)
        delay = self.settings.retry.delay(intent.attempts, self.rand(), outcome.retry_after)
        if outcome.ambiguous and outcome.kind in ("timeout", "connection"):
            # The vendor may still be committing that create: look it up only once it had
            # time to, or the lookup misses it and a vendor without idempotency sells twice.
            delay = max(delay, self.settings.reconcile_after_s)
        next_at = now + timedelta(seconds=delay)
        out_of_budget = intent.attempts >= intent.max_attempts or (
            intent.deadline is not None and next_at >= intent.deadline
        )
        if out_of_budget:
            self._give_up(intent, f"last error: {detail}", outcome.ambiguous)
            return
        self._record(
            intent,
            lambda i: i.schedule_retry(
                error=outcome.kind,
                status_code=outcome.status,
                detail=detail,
                ambiguous=outcome.ambiguous,
                next_attempt_at=next_at,
                now=self.clock(),
            ),
        )

    def _give_up(self, intent: Intent, detail: str, ambiguous: bool) -> None:
        """Out of budget. If an attempt may have reached the vendor, the intent is not failed
        until a lookup says the vendor holds no job for it: failing it while its job exists
        would lose a purchase. Until the lookup can be made, it waits for one (and only
        lookups are made for it, never another create)."""
        why = f"retry budget exhausted after {intent.attempts} attempts; {detail}"
        if ambiguous or intent.ambiguous:
            if not self.guard.admit():
                self._await_lookup(intent, "the breaker holds calls back")
                return
            found, note = self._reconcile(intent)
            if isinstance(found, Job):
                self._submit_found(intent, found, note)
                return
            if isinstance(found, Transient):
                self._await_lookup(intent, _describe(found))
                return
            if note and note.startswith("no-lookup"):
                why += (
                    "; an attempt may have reached the vendor and it offers no lookup:"
                    " check the vendor for a job before buying again"
                )
        self._record(intent, lambda i: i.fail(reason="budget", detail=why, now=self.clock()))

    def _await_lookup(self, intent: Intent, why: str) -> None:
        delay = self.settings.retry.delay(intent.attempts, self.rand())
        next_at = self.clock() + timedelta(seconds=delay)
        self._record(
            intent,
            lambda i: i.schedule_retry(
                error="reconcile",
                status_code=None,
                detail=f"out of budget; the job will be looked up before failing ({why})",
                ambiguous=True,
                next_attempt_at=next_at,
                now=self.clock(),
            ),
        )

    # -- following a submitted job --------------------------------------------------------

    def follow(self, request_id: str, job_id: str) -> None:
        """Read a submitted job once; settle or fail the intent when the vendor is done."""
        outcome = self._call(lambda: self.vendor.get_job(job_id))
        poll = self._polls.get(request_id)
        if isinstance(outcome, Job) and outcome.phase == TERMINAL_OK and outcome.deliverable_id:
            deliverable = outcome.deliverable_id
            self._record_by_id(
                request_id,
                lambda i: i.settle(
                    deliverable_id=deliverable, phase=outcome.phase, now=self.clock()
                ),
            )
        elif isinstance(outcome, Job) and outcome.phase in TERMINAL_BAD:
            self._record_by_id(
                request_id,
                lambda i: i.fail(
                    reason=outcome.phase.lower(),
                    detail=f"vendor {outcome.phase} job {job_id}",
                    now=self.clock(),
                ),
            )
        elif isinstance(outcome, Permanent) and poll is not None and poll.misses >= 2:
            self._record_by_id(
                request_id,
                lambda i: i.fail(
                    reason="permanent",
                    status_code=outcome.status,
                    detail=f"vendor no longer knows job {job_id}: {outcome.detail}",
                    now=self.clock(),
                ),
            )
        else:
            if poll is None:
                return
            poll.misses += isinstance(outcome, Permanent)
            poll.interval = min(self.settings.poll_cap_s, poll.interval * 2)
            poll.at = time.monotonic() + poll.interval
            return
        self._polls.pop(request_id, None)

    def poll_due(self, request_id: str) -> bool:
        return self.poll_in(request_id) <= 0

    def poll_in(self, request_id: str) -> float:
        """Seconds until the submitted job of ``request_id`` is to be read next."""
        now = time.monotonic()
        poll = self._polls.setdefault(
            request_id, _Poll(at=now + self.settings.poll_s, interval=self.settings.poll_s)
        )
        return poll.at - now

    # -- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event, concurrency: int | None = None) -> None:
        """Dispatch until ``stop`` is set; waits for calls in flight before returning."""
        width = concurrency or self.settings.concurrency
        log.info("worker %s started (%d in flight at most)", self.worker, width)
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="pq-call") as pool:
            while not stop.is_set():
                try:
                    busy = self.step(pool, width)
                except Exception:  # the store or the network failed: log, wait, go on
                    log.exception("worker round failed; trying again in 1 s")
                    stop.wait(1.0)
                    continue
                if not busy:
                    self._wake.wait(self.settings.idle_s)  # a call finished, or time passed
                    self._wake.clear()
        log.info("worker %s stopped", self.worker)

    def step(self, pool: ThreadPoolExecutor, width: int) -> bool:
        """One round: catch up, let the breaker tick, hand out due work. True if busy."""
        self.projector.catch_up()
        state = self.guard.sync()
        free = width - len(self._inflight)
        if free <= 0 or state == BreakerState.DEGRADED:
            return False
        probing = state != BreakerState.OK
        # Reads of submitted jobs first, with up to half the free slots: a job the vendor has
        # finished should not wait behind a whole backlog of creates.
        handed = self._follow_jobs(pool, max(1, free // 2), probing=probing)
        limit = free - handed if not probing else self.settings.breaker.probes
        started = 0
        for request_id in self._candidates(limit):
            if started >= limit:
                break
            if self._start(pool, request_id, self.attempt, request_id):
                started += 1
        handed += started
        if handed < free:
            handed += self._follow_jobs(pool, free - handed, probing=probing)
        return handed > 0

    def _follow_jobs(self, pool: ThreadPoolExecutor, free: int, *, probing: bool) -> int:
        """Read submitted jobs whose next read is due. While the breaker is RECOVERING each
        read is a probe, so reads can bring it back to OK when no attempt is due."""
        jobs = queries.submitted(self.views, 1000)
        following = {request_id for request_id, _ in jobs}
        for gone in [key for key in list(self._polls) if key not in following]:
            self._polls.pop(gone, None)
        handed = 0
        for request_id, job_id in jobs:
            if handed >= free:
                break
            if request_id in self._inflight or not self.poll_due(request_id):
                continue
            if probing and not self.guard.admit():
                break
            if self._start(pool, request_id, self.follow, request_id, job_id):
                handed += 1
            elif probing:
                self.guard.unsent()
        return handed

    def _candidates(self, wanted: int) -> list[str]:
        """Due intents, oldest first. Workers sharing a store would all reach for the same
        oldest few, so each takes a random pick among the oldest ``4 * wanted``."""
        window = queries.due(self.views, self.clock(), 4 * wanted + len(self._inflight))
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

    # -- helpers --------------------------------------------------------------------------

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_s)

    def _order(self, intent: Intent) -> JobOrder:
        provider, offering = split_target(intent.target)
        return JobOrder(intent.request_id, provider, offering, self._params(intent))

    def _params(self, intent: Intent) -> dict[str, Any]:
        if intent.params_sealed is not None:
            return self.sealer.open(intent.params_sealed, intent.request_id)
        return dict(intent.params_plain or {})

    def _clean(self, intent: Intent, text: str) -> str:
        """Vendor messages may echo the params: never let a secret into the trail."""
        return redact_text(text, secret_values(self._params(intent)))[:500]

    def _call(self, fn: Callable[[], T]) -> T:
        """Make one vendor call; every call counts for the breaker (slow ones as failures)."""
        started = time.monotonic()
        outcome = fn()
        self.guard.record(
            failed=isinstance(outcome, Transient), duration_s=time.monotonic() - started
        )
        maybe_crash("after_vendor_answer")
        return outcome

    def _record(self, intent: Intent, change: Callable[[Intent], None]) -> None:
        """Apply ``change`` and save; on a concurrent write, reload and apply again."""
        for _ in range(5):
            try:
                change(intent)
                self.app.save(intent)
                if intent.status != Status.RETRYING:
                    log.info(
                        "%s: %s %s",
                        intent.request_id,
                        intent.status.value,
                        intent.job_id or intent.failure or "",
                    )
                return
            except IntegrityError:
                intent = self.app.intent(intent.request_id)
            except IllegalTransition as exc:
                log.info("%s: %s", intent.request_id, exc)
                return
        log.warning("%s: gave up recording after repeated conflicts", intent.request_id)

    def _record_by_id(self, request_id: str, change: Callable[[Intent], None]) -> None:
        try:
            intent = self.app.intent(request_id)
        except IntentNotFound:
            return
        if intent.is_terminal:
            return
        self._record(intent, change)


def _describe(outcome: Transient) -> str:
    code = f" {outcome.status}" if outcome.status else ""
    after = f" (Retry-After {outcome.retry_after:g}s)" if outcome.retry_after else ""
    maybe = "; may have reached the vendor" if outcome.ambiguous else ""
    return f"{outcome.kind}{code}: {outcome.detail}{after}{maybe}"
