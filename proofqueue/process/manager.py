"""The process manager's shells: claim, call, record. What to do is decided in
``decisions.py``; these only load, ask the breaker, call the vendor and save.

For each intent whose next attempt is due it claims the attempt in the log
(``AttemptStarted``: optimistic concurrency makes the claim exclusive), calls the vendor and
records what was decided (``Submitted``, ``RetryScheduled`` or ``Failed``). Submitted jobs
are read until they complete (``Settled``) or the vendor rejects or expires them
(``Failed``). Timers are durable: the next attempt time is in the log, so a restarted worker
picks up exactly what was due.

An intent whose trail is damaged (``TrailDamaged`` when it is loaded) is isolated: logged
once, kept in ``damaged``, never claimed or followed again by this manager; the others go
on in the same round.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from proofqueue.chaos import maybe_crash
from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.errors import (
    ConfigurationError,
    IllegalTransition,
    IntentNotFound,
    TrailDamaged,
    damage_note,
)
from proofqueue.domain.intent import Intent, intent_id
from proofqueue.ports import (
    Found,
    IntentStore,
    JobOrder,
    LookupOutcome,
    Sealer,
    Transient,
    Vendor,
)
from proofqueue.process.claims import clean_detail, order_of, save_claims
from proofqueue.process.decisions import (
    BudgetSpent,
    Create,
    Fail,
    Lookup,
    NoteJob,
    PollAgain,
    ScheduleRetry,
    Submit,
    Timing,
    await_lookup,
    decide_after_claim,
    decide_after_create,
    decide_after_last_lookup,
    decide_after_lookup,
    decide_after_read,
    decide_budget_spent,
    decide_not_sent,
)
from proofqueue.process.guard import BreakerGuard
from proofqueue.process.polls import Polls
from proofqueue.process.reactions import Reaction, reaction_to
from proofqueue.process.recorder import Claim, Recorder

log = logging.getLogger("proofqueue.worker")

T = TypeVar("T")

# How long an intent whose params cannot be opened is left aside before it is tried again.
BLOCKED_S = 60.0
NOT_SENT = "not sent: the vendor was closed (breaker or hold) while the call waited its turn"


@dataclass(frozen=True)
class Claimed:
    """An attempt this worker holds: the intent as claimed, its lease, what to send."""

    intent: Intent
    claim: Claim
    order: JobOrder


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
    # Record decisions in one commit per worker round (``flush_records``).
    batched: bool = False
    # Intents whose params this process cannot open: intent id -> (why, until when, epoch).
    blocked: dict[str, tuple[str, float]] = field(default_factory=dict)
    # Intents whose trail is damaged: request_id -> the damage (isolated, logged once).
    damaged: dict[str, TrailDamaged] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.recorder = Recorder(self.log, self.worker, self.clock, self._clean, self.batched)
        self.polls = Polls(self.timing.poll_s)

    def for_worker(self) -> ProcessManager:
        """A manager of a worker's own: its records gathered into group commits, its own
        read schedule and blocked intents."""
        return replace(self, batched=True, blocked={}, damaged={})

    def flush_records(self) -> int:
        """Record the decisions gathered since the last round, in one commit."""
        return self.recorder.flush()

    def react(self, intent: Intent) -> float | None:
        """Do what the intent's latest event calls for, if it is due now. Returns the
        seconds until its next job read is due (FOLLOW), else None."""
        reaction = reaction_to(intent)
        if reaction == Reaction.ATTEMPT:
            if intent.is_due(self.clock()) and self.guard.state == BreakerState.OK:
                self.attempt(intent.request_id)
        elif reaction == Reaction.FOLLOW and intent.job_id:
            wait = self.polls.due_in(intent.request_id)
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
        request_id -> the version watched), all in one commit; answer those claimed. A
        worker's manager (``batched``) records in that commit too what it decided since
        its last commit."""
        ready: list[tuple[Intent, JobOrder, bool, str | None]] = []
        loaded = self.load_many(list(wanted))
        for request_id, take_over in wanted.items():
            intent = loaded.get(request_id)
            if intent is None:
                continue
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
        # The decisions recorded since the last round share the claims' commit.
        records = self.recorder.take() if self.batched else None
        started = time.monotonic()  # the lease counts from before the claims are saved
        try:
            saved, recorded = save_claims(
                self.log,
                [(intent, taking) for intent, _, taking, _ in ready],
                self._claim_again,
                records.intents if records else (),
            )
        except BaseException:
            if records:
                self.recorder.unsaved(records)
            raise
        for intent in saved.values():
            self.recorder.known.saved(intent)
        if records:
            (self.recorder.saved if recorded else self.recorder.refused)(records)
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
            claim = Claim(intent.attempts, started, self.lease_s, self.timing.call_s)
            claimed.append(Claimed(intent, claim, order))
        if claimed:
            maybe_crash("after_claim")
        return claimed

    def _claim_again(self, intent: Intent, take_over: bool) -> None:
        intent.start_attempt(
            worker=self.worker, lease=self._lease, now=self.clock(), take_over=take_over
        )

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

    def not_sent(self, claimed: Claimed) -> None:
        """A claimed attempt whose call waited while the breaker tripped (or a hold came):
        nothing is sent; the intent is due again at once (the worker claims it when the
        vendor is open) with its attempt given back to the budget (``decide_not_sent``),
        not ambiguous for this attempt (an earlier ambiguous one is still looked up)."""
        intent, claim = claimed.intent, claimed.claim
        log.warning(
            "%s: the vendor is closed (breaker DEGRADED or held); attempt %d not sent",
            intent.request_id,
            intent.attempts,
        )
        self._carry_out(intent, decide_not_sent(NOT_SENT, self.clock()), claim)

    def _lease_too_short(self, intent: Intent) -> None:
        """Too little of the claim's lease is left for a call to end inside it: send
        nothing. The claim stays, and is taken over (and reconciled) once it runs out."""
        log.warning(
            "%s: the lease of attempt %d is nearly over; not calling the vendor",
            intent.request_id,
            intent.attempts,
        )

    def _budget_spent(self, intent: Intent, spent: BudgetSpent, claim: Claim | None = None) -> None:
        decided = decide_budget_spent(intent, spent)
        if isinstance(decided, Fail):
            self.recorder.record(intent, decided, claim)
            return
        if not self.guard.admit() or (claim is not None and not claim.may_call()):
            why = "the breaker holds calls back"
            decided_later = await_lookup(intent, why, self.clock(), self.timing, self.rand())
            self.recorder.record(intent, decided_later, claim)
            return
        found = self._call(lambda: self.vendor.find_jobs(intent.request_id))
        self._warn_many(intent, found)
        self.recorder.record(
            intent,
            decide_after_last_lookup(found, intent, spent, self.clock(), self.timing, self.rand()),
            claim,
        )

    def _carry_out(
        self,
        intent: Intent,
        decided: Submit | Fail | ScheduleRetry | BudgetSpent,
        claim: Claim | None,
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
        self.recorder.record(intent, decided, claim)

    # -- following a submitted job --------------------------------------------------------

    def follow(self, request_id: str, job_id: str, intent: Intent | None = None) -> None:
        """Read a submitted job once; settle or fail the intent when the vendor is done.
        ``intent``: as loaded just before (``load_many``), else loaded here. What the read
        decides is recorded on it: had the intent moved meanwhile, its save conflicts and
        the decision is applied again to the intent reloaded (``Recorder``)."""
        if intent is None:
            try:
                intent = self._load(request_id)
            except IntentNotFound:
                return
            if intent is None:
                return  # damaged: not followed
        outcome = self._call(lambda: self.vendor.get_job(job_id))
        poll = self.polls.get(request_id)
        interval, misses = (poll.interval, poll.misses) if poll else (self.timing.poll_s, 0)
        decided = decide_after_read(outcome, job_id, interval, misses, self.timing)
        if isinstance(decided, PollAgain):
            self.polls.again(request_id, decided)
            if decided.unclear is not None:
                self._note_job(intent, NoteJob(decided.phase, decided.unclear))
            return
        if not intent.is_terminal:
            self.recorder.record(intent, decided)
        self.polls.done(request_id)

    def _note_job(self, intent: Intent, decided: NoteJob) -> None:
        """Record an unclear answer about the job in the trail, once per distinct answer."""
        if intent.job_note != decided.detail and not intent.is_terminal:
            log.warning("%s: %s; read again in a while", intent.request_id, decided.detail)
            self.recorder.record(intent, decided)

    # -- helpers --------------------------------------------------------------------------

    def load_many(
        self, request_ids: Sequence[str], versions: Mapping[str, int] | None = None
    ) -> dict[str, Intent]:
        """The intents of ``request_ids`` in one read of the log, those damaged isolated
        (as ``_load`` does) and those not found left out. ``versions``: the versions the
        views show; an intent this manager saved at that version is not read again."""
        found: dict[str, Intent] = {}
        for request_id, version in (versions or {}).items():
            intent = self.recorder.known.at(request_id, version)
            if intent is not None:
                found[request_id] = intent
        wanted = [r for r in request_ids if r not in self.damaged and r not in found]
        if wanted:
            found.update(self.log.intents(wanted))
        for request_id in request_ids:
            if request_id not in found:  # missing or damaged: a load of its own says which
                try:
                    intent = self._load(request_id)
                except IntentNotFound:
                    continue
                if intent is not None:
                    found[request_id] = intent
        return found

    def _load(self, request_id: str) -> Intent | None:
        """The intent, or None when its trail is damaged: then it is isolated (logged once,
        never claimed or followed again by this manager, and blocked for the others with
        the damage as its ``waiting_for``)."""
        known = self.damaged.get(request_id)
        if known is None:
            try:
                return self.log.intent(request_id)
            except TrailDamaged as exc:
                known = self.damaged[request_id] = exc
                log.error("%s; left alone, the other intents go on", exc)
        # Said in its waiting_for (the views' catch-up does not recompute hashes), and left
        # out of every worker's due list a minute at a time.
        why = f"{damage_note(known.seq, known.detail)}; run `proofqueue verify {request_id}`"
        self.blocked[str(intent_id(request_id))] = (why, time.time() + BLOCKED_S)
        return None

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.lease_s)

    def _order(self, intent: Intent) -> JobOrder:
        return order_of(intent, self.sealer)

    def _clean(self, intent: Intent, text: str) -> str:
        return clean_detail(intent, text, self.sealer)

    def look_up(self, request_id: str) -> LookupOutcome | None:
        """Ask the vendor for the jobs of ``request_id`` (for an operator's action); None
        when the breaker or a hold keeps the vendor closed now."""
        if not self.guard.admit():
            return None
        return self._call(lambda: self.vendor.find_jobs(request_id))

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
