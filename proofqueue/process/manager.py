"""The process manager's shells: claim, call, record. What to do is decided in
``decisions.py``; these only load, ask the breaker, call the vendor and save.

For each intent whose next attempt is due it claims the attempt in the log
(``AttemptStarted``: optimistic concurrency makes the claim exclusive), calls the vendor and
records what was decided (``Submitted``, ``RetryScheduled`` or ``Failed``). Submitted jobs
are read until they complete (``Settled``) or the vendor rejects or expires them
(``Failed``). Timers are durable: the next attempt time is in the log, so a restarted worker
picks up exactly what was due.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError

from proofqueue.chaos import maybe_crash
from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.errors import ConfigurationError, IllegalTransition, IntentNotFound
from proofqueue.domain.intent import Intent, Status, intent_id
from proofqueue.domain.request import split_target
from proofqueue.domain.sanitize import redact_text, secret_values
from proofqueue.ports import Found, IntentStore, JobOrder, Sealer, Transient, Vendor
from proofqueue.process.decisions import (
    BudgetSpent,
    Create,
    Fail,
    Lookup,
    PollAgain,
    ScheduleRetry,
    Settle,
    Submit,
    Timing,
    await_lookup,
    decide_after_claim,
    decide_after_create,
    decide_after_last_lookup,
    decide_after_lookup,
    decide_after_read,
    decide_budget_spent,
)
from proofqueue.process.guard import BreakerGuard
from proofqueue.process.reactions import Reaction, reaction_to

log = logging.getLogger("proofqueue.worker")

T = TypeVar("T")

# How long an intent whose params cannot be opened is left aside before it is tried again.
BLOCKED_S = 60.0

# The longest error detail recorded in the trail (a budget failure quotes the last error).
DETAIL_MAX = 1000

Recordable = Submit | ScheduleRetry | Fail | Settle


@dataclass
class _Poll:
    """When to read a submitted job next (kept in memory: reads change nothing)."""

    at: float
    interval: float
    misses: int = 0


@dataclass(frozen=True)
class _Claim:
    """An attempt this worker claimed, and how long it may still call the vendor: a call
    must end inside the lease, measured by this process's monotonic clock from before the
    claim was saved, so that it ends before any other worker may take the claim over."""

    attempt: int
    started: float
    lease_s: float
    call_s: float

    def may_call(self) -> bool:
        return time.monotonic() - self.started + self.call_s < self.lease_s


@dataclass(frozen=True)
class Claimed:
    """An attempt this worker holds: the intent as claimed, its lease, what to send."""

    intent: Intent
    claim: _Claim
    order: JobOrder


def _describe_decision(decided: Recordable) -> str:
    if isinstance(decided, Submit):
        return f"the submission of job {decided.job_id}"
    return type(decided).__name__


@dataclass
class ProcessManager:
    log: IntentStore
    vendor: Vendor
    guard: BreakerGuard
    sealer: Sealer
    timing: Timing
    lease_s: float
    clock: Callable[[], datetime]
    worker: str
    rand: Callable[[], float] = field(default=random.random)
    # Gather recorded decisions for ``flush_records`` (a worker's group commit) instead of
    # saving each at once.
    batched: bool = False
    _records: list[tuple[Intent, Recordable, _Claim | None]] = field(default_factory=list)
    _records_lock: threading.Lock = field(default_factory=threading.Lock)
    # Intents whose params this process cannot open: intent id -> (why, until when, epoch).
    blocked: dict[str, tuple[str, float]] = field(default_factory=dict)
    _polls: dict[str, _Poll] = field(default_factory=dict)

    def react(self, intent: Intent) -> float | None:
        """Do what the intent's latest event calls for, if it is due now. Returns the
        seconds until its next job read is due (FOLLOW), else None."""
        reaction = reaction_to(intent)
        if reaction == Reaction.ATTEMPT:
            if intent.is_due(self.clock()) and self.guard.state == BreakerState.OK:
                self.attempt(intent.request_id)
        elif reaction == Reaction.FOLLOW and intent.job_id:
            wait = self.poll_in(intent.request_id)
            if wait > 0:
                return wait
            self.follow(intent.request_id, intent.job_id)
        return None

    # -- one attempt ----------------------------------------------------------------------

    def attempt(self, request_id: str, *, take_over: int | None = None) -> None:
        """Run the next attempt of ``request_id`` if it is due and the breaker allows.

        ``take_over`` is the version of an unresolved claim that the caller watched for a
        whole lease (by its own monotonic clock): that claim is taken over, as long as the
        intent has not moved since."""
        for claimed in self.claim({request_id: take_over}):
            self.call(claimed)

    def claim(self, wanted: Mapping[str, int | None]) -> list[Claimed]:
        """Claim the next attempt of each intent that is due (or whose claim is taken over:
        request_id -> the version watched), all in one commit; answer those claimed."""
        ready: list[tuple[Intent, JobOrder, bool, str | None]] = []
        for request_id, take_over in wanted.items():
            intent = self.log.intent(request_id)
            now = self.clock()
            if take_over is not None:
                if intent.claim_until is None or intent.version != take_over:
                    continue  # resolved or taken meanwhile
            elif not intent.is_due(now):
                continue
            if not intent.budget_left(now) and take_over is None:
                self._budget_spent(intent, BudgetSpent("no attempts or time left", False))
                continue
            try:
                order = self._order(intent)  # before claiming: an attempt that cannot be
            except ConfigurationError as exc:  # sent is not spent
                self._block(intent, "params cannot be opened with this key", str(exc))
                continue
            if not self.guard.admit():
                break
            previous = intent.claimed_by
            try:
                intent.start_attempt(
                    worker=self.worker, lease=self._lease, now=now, take_over=take_over is not None
                )
            except IllegalTransition:
                self.guard.unsent()
                continue
            ready.append((intent, order, take_over is not None, previous))
        started = time.monotonic()  # the lease counts from before the claims are saved
        saved = self._save_claims([(intent, taking) for intent, _, taking, _ in ready])
        claimed = []
        for stale, order, taking, previous in ready:
            found = saved.get(stale.request_id)
            if found is None:
                self.guard.unsent()  # another worker claimed it first
                continue
            intent = found
            if taking:
                log.warning(
                    "%s: took over attempt %d from %s, whose lease ran out; looking the job up"
                    " first",
                    intent.request_id,
                    intent.attempts - 1,
                    previous,
                )
            claim = _Claim(intent.attempts, started, self.lease_s, self.timing.call_s)
            claimed.append(Claimed(intent, claim, order))
        if claimed:
            maybe_crash("after_claim")
        return claimed

    def _save_claims(self, ready: list[tuple[Intent, bool]]) -> dict[str, Intent]:
        """Save the claims (intent, whether it takes a claim over) in one commit; if one
        conflicts, claim each afresh alone (the failed commit used up their events)."""
        if not ready:
            return {}
        try:
            self.log.save(*(intent for intent, _ in ready))
            return {intent.request_id: intent for intent, _ in ready}
        except IntegrityError:
            if len(ready) == 1:
                return {}
        saved = {}
        for stale, take_over in ready:
            intent = self.log.intent(stale.request_id)
            watched = stale.version - 1  # the version the claim was made on
            if take_over and (intent.claim_until is None or intent.version != watched):
                continue
            if not take_over and not intent.is_due(self.clock()):
                continue
            try:
                intent.start_attempt(
                    worker=self.worker, lease=self._lease, now=self.clock(), take_over=take_over
                )
                self.log.save(intent)
            except (IntegrityError, IllegalTransition):
                continue
            saved[intent.request_id] = intent
        return saved

    def call(self, claimed: Claimed) -> None:
        """The vendor calls of a claimed attempt, and the recording of what they decided."""
        intent, claim, order = claimed.intent, claimed.claim, claimed.order
        step: Lookup | Create = decide_after_claim(intent)
        if isinstance(step, Lookup):
            if not claim.may_call():
                return self._lease_too_short(intent)
            found = self._call(lambda: self.vendor.find_jobs(intent.request_id))
            self._warn_many(intent, found)
            decided = decide_after_lookup(found, intent, self.clock(), self.timing, self.rand())
            if not isinstance(decided, Create):
                self._carry_out(intent, decided, claim)
                return None
            step = decided
        if not claim.may_call():
            return self._lease_too_short(intent)
        outcome = self._call(lambda: self.vendor.create_job(order))
        self._carry_out(
            intent,
            decide_after_create(outcome, intent, self.clock(), self.timing, self.rand(), step.note),
            claim,
        )
        return None

    def _block(self, intent: Intent, why: str, detail: str) -> None:
        """Leave an intent aside for a minute, saying why (shown as its ``waiting_for``)."""
        key = str(intent.id)
        if key not in self.blocked:
            log.error("%s: %s: %s", intent.request_id, why, detail)
        self.blocked[key] = (why, time.time() + BLOCKED_S)

    def next_reads(self) -> dict[str, float]:
        """When each followed job is read next (intent id -> epoch seconds)."""
        now, wall = time.monotonic(), time.time()
        return {
            str(intent_id(request_id)): wall + poll.at - now
            for request_id, poll in list(self._polls.items())
        }

    def _lease_too_short(self, intent: Intent) -> None:
        """Too little of the claim's lease is left for a call to end inside it: send
        nothing. The claim stays, and is taken over (and reconciled) once it runs out."""
        log.warning(
            "%s: the lease of attempt %d is nearly over; not calling the vendor",
            intent.request_id,
            intent.attempts,
        )

    def _budget_spent(
        self, intent: Intent, spent: BudgetSpent, claim: _Claim | None = None
    ) -> None:
        decided = decide_budget_spent(intent, spent)
        if isinstance(decided, Fail):
            self._record(intent, decided, claim)
            return
        if not self.guard.admit() or (claim is not None and not claim.may_call()):
            why = "the breaker holds calls back"
            decided_later = await_lookup(intent, why, self.clock(), self.timing, self.rand())
            self._record(intent, decided_later, claim)
            return
        found = self._call(lambda: self.vendor.find_jobs(intent.request_id))
        self._warn_many(intent, found)
        self._record(
            intent,
            decide_after_last_lookup(found, intent, spent, self.clock(), self.timing, self.rand()),
            claim,
        )

    def _carry_out(
        self,
        intent: Intent,
        decided: Submit | Fail | ScheduleRetry | BudgetSpent,
        claim: _Claim | None,
    ) -> None:
        if isinstance(decided, BudgetSpent):
            self._budget_spent(intent, decided, claim)
            return
        if isinstance(decided, ScheduleRetry):
            log.info(
                "%s: attempt %d failed: %s",
                intent.request_id,
                intent.attempts,
                self._clean(intent, decided.detail),
            )
        self._record(intent, decided, claim)

    # -- following a submitted job --------------------------------------------------------

    def follow(self, request_id: str, job_id: str) -> None:
        """Read a submitted job once; settle or fail the intent when the vendor is done."""
        outcome = self._call(lambda: self.vendor.get_job(job_id))
        poll = self._polls.get(request_id)
        interval, misses = (poll.interval, poll.misses) if poll else (self.timing.poll_s, 0)
        decided = decide_after_read(outcome, job_id, interval, misses, self.timing)
        if isinstance(decided, PollAgain):
            if poll is not None:
                poll.misses, poll.interval = decided.misses, decided.interval_s
                poll.at = time.monotonic() + decided.interval_s
            return
        try:
            intent = self.log.intent(request_id)
        except IntentNotFound:
            return
        if not intent.is_terminal:
            self._record(intent, decided)
        self._polls.pop(request_id, None)

    def poll_in(self, request_id: str) -> float:
        """Seconds until the submitted job of ``request_id`` is to be read next."""
        now = time.monotonic()
        poll = self._polls.setdefault(
            request_id, _Poll(at=now + self.timing.poll_s, interval=self.timing.poll_s)
        )
        return poll.at - now

    def forget_polls(self, keep: set[str]) -> None:
        """Drop the read schedule of jobs no longer followed."""
        for gone in [key for key in self._polls if key not in keep]:
            self._polls.pop(gone, None)

    # -- helpers --------------------------------------------------------------------------

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.lease_s)

    def _order(self, intent: Intent) -> JobOrder:
        provider, offering = split_target(intent.target)
        return JobOrder(intent.request_id, provider, offering, self._params(intent))

    def _params(self, intent: Intent) -> dict[str, Any]:
        if intent.params_sealed is not None:
            return self.sealer.open(intent.params_sealed, intent.request_id)
        return dict(intent.params_plain or {})

    def _clean(self, intent: Intent, text: str) -> str:
        """Vendor messages may echo the params: never let a secret into the trail."""
        return redact_text(text, secret_values(self._params(intent)))[:DETAIL_MAX]

    def _warn_many(self, intent: Intent, found: object) -> None:
        if isinstance(found, Found) and len(found.jobs) > 1:
            ids = ", ".join(job.job_id for job in found.jobs)
            log.warning("%s: the vendor holds %d jobs: %s", intent.request_id, len(found.jobs), ids)

    def _call(self, fn: Callable[[], T]) -> T:
        """Make one vendor call; every call counts for the breaker (slow ones as failures)."""
        started = time.monotonic()
        outcome = fn()
        self.guard.record(
            failed=isinstance(outcome, Transient), duration_s=time.monotonic() - started
        )
        maybe_crash("after_vendor_answer")
        return outcome

    def flush_records(self) -> int:
        """Record the decisions gathered since the last flush in one commit (the worker's
        group commit); a conflict sends each back through ``_record`` alone."""
        with self._records_lock:
            batch, self._records = self._records, []
        if not batch:
            return 0
        applied = []
        for intent, decided, claim in batch:
            if claim is not None and not self._still_mine(intent, claim):
                self._superseded(intent, decided, claim)
                continue
            try:
                self._apply(intent, decided)
            except IllegalTransition as exc:
                log.info("%s: %s", intent.request_id, exc)
                continue
            applied.append((intent, decided, claim))
        try:
            self.log.save(*(intent for intent, _, _ in applied))
        except IntegrityError:
            for intent, decided, claim in applied:  # the failed commit used up their events
                self._record_now(self.log.intent(intent.request_id), decided, claim)
            return len(applied)
        for intent, _, _ in applied:
            self._log_recorded(intent)
        return len(applied)

    def _record(self, intent: Intent, decided: Recordable, claim: _Claim | None = None) -> None:
        if self.batched:
            with self._records_lock:
                self._records.append((intent, decided, claim))
            return
        self._record_now(intent, decided, claim)

    def _still_mine(self, intent: Intent, claim: _Claim) -> bool:
        return intent.claimed_by == self.worker and intent.attempts == claim.attempt

    def _superseded(self, intent: Intent, decided: Recordable, claim: _Claim) -> None:
        log.warning(
            "%s: attempt %d was taken over by %s; not recording %s (the job is"
            " looked up by the attempt that took over)",
            intent.request_id,
            claim.attempt,
            intent.claimed_by,
            _describe_decision(decided),
        )

    def _log_recorded(self, intent: Intent) -> None:
        if intent.status != Status.RETRYING:
            log.info(
                "%s: %s %s",
                intent.request_id,
                intent.status.value,
                intent.job_id or intent.failure or "",
            )

    def _record_now(self, intent: Intent, decided: Recordable, claim: _Claim | None = None) -> None:
        """Record a decision; on a concurrent write, reload and apply it again. A decision
        made under a claim is recorded only while that claim is still this worker's: a
        worker paused past its lease must not record over the one that took over (which
        looks the job up before buying)."""
        for _ in range(5):
            if claim is not None and not self._still_mine(intent, claim):
                self._superseded(intent, decided, claim)
                return
            try:
                self._apply(intent, decided)
                self.log.save(intent)
                self._log_recorded(intent)
                return
            except IntegrityError:
                intent = self.log.intent(intent.request_id)
            except IllegalTransition as exc:
                log.info("%s: %s", intent.request_id, exc)
                return
        log.warning("%s: gave up recording after repeated conflicts", intent.request_id)

    def _apply(self, intent: Intent, decided: Recordable) -> None:
        now = self.clock()
        if isinstance(decided, Submit):
            intent.submit(
                job_id=decided.job_id,
                replayed=decided.replayed,
                reconciled=decided.reconciled,
                now=now,
            )
        elif isinstance(decided, ScheduleRetry):
            intent.schedule_retry(
                error=decided.error,
                status_code=decided.status_code,
                detail=self._clean(intent, decided.detail),
                ambiguous=decided.ambiguous,
                next_attempt_at=decided.next_attempt_at,
                now=now,
            )
        elif isinstance(decided, Settle):
            intent.settle(deliverable_id=decided.deliverable_id, phase=decided.phase, now=now)
        else:
            intent.fail(
                reason=decided.reason,
                detail=self._clean(intent, decided.detail),
                status_code=decided.status_code,
                now=now,
            )
