"""The process manager's decisions, as pure functions.

Each function takes what happened (a vendor outcome, the intent as it stands, the time and a
random draw) and returns one decision value; the shells in ``manager.py`` claim, call and
record what was decided. Nothing here reads a clock, a store or the network, so every
outcome class is tested as a table (tests/unit/test_process_decisions.py).

    after a claim        -> Lookup | Create
    after a create       -> Submit | Fail | ScheduleRetry | BudgetSpent
    after a lookup       -> Submit | Create | ScheduleRetry | BudgetSpent      (attempt)
                         -> Submit | Fail | AwaitLookup                        (giving up)
    budget spent         -> Lookup | Fail
    after a job read     -> Settle | Fail | PollAgain (``unclear``: recorded once, read less)

A claim whose lease ran out needs no decision of its own: the intent is due again, and the
next claim is a takeover, which marks the attempt ambiguous, so it starts with a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from proofqueue.domain.backoff import RetryPolicy
from proofqueue.domain.intent import Intent
from proofqueue.ports import (
    TERMINAL_BAD,
    TERMINAL_OK,
    Accepted,
    CreateOutcome,
    Found,
    Job,
    JobOutcome,
    LookupOutcome,
    LookupUnsupported,
    Permanent,
    Transient,
)

NO_LOOKUP = "no-lookup: resent under the same Idempotency-Key"
FOUND_NONE = "lookup-found-none: resent under the same Idempotency-Key"


@dataclass(frozen=True)
class Timing:
    """The policies the decisions need, from Settings."""

    retry: RetryPolicy
    # After a create that timed out or lost its connection, wait this long before a lookup.
    reconcile_after_s: float = 10.0
    poll_s: float = 0.5
    poll_cap_s: float = 5.0
    # A job answered in a way that neither settles nor fails it is read less and less often.
    unclear_cap_s: float = 300.0
    # The longest one vendor call may take (its whole deadline).
    call_s: float = 20.0


# -- decision values ---------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """Look the request up at the vendor before anything else."""

    purpose: Literal["attempt", "give_up"]


@dataclass(frozen=True)
class Create:
    """Send the create; ``note`` says why it is safe to (recorded with the submission)."""

    note: str | None = None


@dataclass(frozen=True)
class Submit:
    job_id: str
    replayed: bool
    reconciled: str | None


@dataclass(frozen=True)
class ScheduleRetry:
    error: str
    status_code: int | None
    detail: str
    ambiguous: bool
    next_attempt_at: datetime
    unsent: bool = False  # nothing reached the vendor: the attempt is given back to the budget


@dataclass(frozen=True)
class Fail:
    reason: str
    detail: str
    status_code: int | None = None


@dataclass(frozen=True)
class BudgetSpent:
    """No attempt or time left; ``ambiguous`` when the last attempt may have reached the
    vendor (then a lookup must answer before the intent may fail)."""

    detail: str
    ambiguous: bool


@dataclass(frozen=True)
class Settle:
    deliverable_id: str
    phase: str


@dataclass(frozen=True)
class PollAgain:
    """Read the job again after ``interval_s``; ``misses`` counts reads answered 404.
    ``unclear`` says why an answer neither settles nor fails the job (then recorded once in
    the trail, and the job read less often), with the ``phase`` answered."""

    interval_s: float
    misses: int
    unclear: str | None = None
    phase: str = ""


# The phases of a job still under way (design.md, Vendor protocol).
OPEN_PHASES = frozenset({"REQUEST", "NEGOTIATION", "TRANSACTION", "EVALUATION"})


@dataclass(frozen=True)
class NoteJob:
    """Record, once, an answer about the job that neither settles nor fails it."""

    phase: str
    detail: str


Decision = (
    Lookup | Create | Submit | ScheduleRetry | Fail | BudgetSpent | Settle | PollAgain | NoteJob
)


# -- attempts ----------------------------------------------------------------------------


def decide_after_claim(intent: Intent) -> Lookup | Create:
    """An earlier attempt may have reached the vendor: look for its job before buying."""
    return Lookup("attempt") if intent.ambiguous else Create()


def decide_after_create(
    outcome: CreateOutcome,
    intent: Intent,
    now: datetime,
    timing: Timing,
    rand: float,
    note: str | None = None,
) -> Submit | Fail | ScheduleRetry | BudgetSpent:
    if isinstance(outcome, Accepted):
        how = note or ("idempotency-replay" if outcome.replayed else None)
        return Submit(outcome.job_id, outcome.replayed, how)
    if isinstance(outcome, Permanent):
        return Fail(
            "permanent", f"vendor refused: {outcome.status} {outcome.detail}", outcome.status
        )
    return decide_after_transient(outcome, intent, now, timing, rand)


def decide_not_sent(detail: str, now: datetime) -> ScheduleRetry:
    """A claimed attempt whose call was never sent (the vendor was closed while it waited its
    turn): due again at once, and its attempt given back to the budget, so that an intent
    never fails for calls it did not make."""
    return ScheduleRetry("connection", None, detail, False, now, unsent=True)


def decide_after_transient(
    outcome: Transient, intent: Intent, now: datetime, timing: Timing, rand: float
) -> ScheduleRetry | BudgetSpent:
    """Retry with full jitter (Retry-After as a floor), or give up when the budget is spent."""
    detail = describe(outcome)
    delay = timing.retry.delay(intent.attempts, rand, outcome.retry_after)
    if outcome.ambiguous and outcome.kind in ("timeout", "connection"):
        # The vendor may still be committing that create: look it up only once it had time
        # to, or the lookup misses it and a vendor without idempotency sells twice.
        delay = max(delay, timing.reconcile_after_s)
    next_at = now + timedelta(seconds=delay)
    out_of_budget = intent.attempts >= intent.max_attempts or (
        intent.deadline is not None and next_at >= intent.deadline
    )
    if out_of_budget:
        return BudgetSpent(f"last error: {detail}", outcome.ambiguous)
    return ScheduleRetry(outcome.kind, outcome.status, detail, outcome.ambiguous, next_at)


def decide_after_lookup(
    outcome: LookupOutcome, intent: Intent, now: datetime, timing: Timing, rand: float
) -> Submit | Create | ScheduleRetry | BudgetSpent:
    """Before a create that may repeat an earlier one: take the job found, or resend."""
    if isinstance(outcome, Found) and outcome.jobs:
        return Submit(outcome.jobs[0].job_id, False, _found_note(outcome.jobs))
    if isinstance(outcome, Found):
        return Create(FOUND_NONE)
    if isinstance(outcome, LookupUnsupported):
        return Create(NO_LOOKUP)
    if isinstance(outcome, Permanent):
        outcome = _lookup_refused(outcome)
    return decide_after_transient(outcome, intent, now, timing, rand)


# -- giving up ---------------------------------------------------------------------------


def decide_budget_spent(intent: Intent, spent: BudgetSpent) -> Lookup | Fail:
    """Out of budget. If an attempt may have reached the vendor, the intent is not failed
    until a lookup says the vendor holds no job for it: failing it while its job exists
    would lose a purchase."""
    if spent.ambiguous or intent.ambiguous:
        return Lookup("give_up")
    return Fail("budget", _why(intent, spent))


def decide_after_last_lookup(
    outcome: LookupOutcome,
    intent: Intent,
    spent: BudgetSpent,
    now: datetime,
    timing: Timing,
    rand: float,
) -> Submit | Fail | ScheduleRetry:
    """The lookup before failing: the job found is the purchase; no answer means wait for
    one (only lookups are made for this intent from now on, never another create)."""
    if isinstance(outcome, Found) and outcome.jobs:
        return Submit(outcome.jobs[0].job_id, False, _found_note(outcome.jobs))
    if isinstance(outcome, Permanent):
        outcome = _lookup_refused(outcome)
    if isinstance(outcome, Transient):
        return await_lookup(intent, describe(outcome), now, timing, rand)
    why = _why(intent, spent)
    if isinstance(outcome, LookupUnsupported):
        why += (
            "; an attempt may have reached the vendor and it offers no lookup:"
            " check the vendor for a job before buying again"
        )
    return Fail("budget", why)


def await_lookup(
    intent: Intent, why: str, now: datetime, timing: Timing, rand: float
) -> ScheduleRetry:
    """Out of budget with a job possibly at the vendor, and no lookup possible now."""
    delay = timing.retry.delay(intent.attempts, rand)
    return ScheduleRetry(
        "reconcile",
        None,
        f"out of budget; the job will be looked up before failing ({why})",
        True,
        now + timedelta(seconds=delay),
    )


# -- following a submitted job -----------------------------------------------------------


def decide_after_read(
    outcome: JobOutcome, job_id: str, interval_s: float, misses: int, timing: Timing
) -> Settle | Fail | PollAgain:
    """Settle a completed job, fail a rejected or expired one (or one the vendor no longer
    knows after three reads), else read again with the interval doubled up to its cap."""
    if isinstance(outcome, Job) and outcome.phase == TERMINAL_OK and outcome.deliverable_id:
        return Settle(outcome.deliverable_id, outcome.phase)
    if isinstance(outcome, Job) and outcome.phase in TERMINAL_BAD:
        return Fail(outcome.phase.lower(), f"vendor {outcome.phase} job {job_id}")
    if isinstance(outcome, Permanent) and misses >= 2:
        return Fail(
            "permanent",
            f"vendor no longer knows job {job_id}: {outcome.detail}",
            outcome.status,
        )
    if isinstance(outcome, Job) and outcome.phase not in OPEN_PHASES:
        if outcome.phase == TERMINAL_OK:
            why = f"vendor answered COMPLETED without a deliverable for job {job_id}"
        else:
            why = f"vendor answered an unknown phase {outcome.phase!r} for job {job_id}"
        slower = min(timing.unclear_cap_s, max(timing.poll_cap_s, interval_s) * 2)
        return PollAgain(slower, misses, why, outcome.phase)
    return PollAgain(
        min(timing.poll_cap_s, interval_s * 2), misses + isinstance(outcome, Permanent)
    )


# -- wording -----------------------------------------------------------------------------


def describe(outcome: Transient) -> str:
    code = f" {outcome.status}" if outcome.status else ""
    after = f" (Retry-After {outcome.retry_after:g}s)" if outcome.retry_after else ""
    maybe = "; may have reached the vendor" if outcome.ambiguous else ""
    return f"{outcome.kind}{code}: {outcome.detail}{after}{maybe}"


def _why(intent: Intent, spent: BudgetSpent) -> str:
    return f"retry budget exhausted after {intent.attempts} attempts; {spent.detail}"


def _found_note(jobs: tuple[Job, ...]) -> str:
    if len(jobs) == 1:
        return "lookup"
    ids = ", ".join(job.job_id for job in jobs)
    return f"lookup: the vendor holds {len(jobs)} jobs ({ids})"


def _lookup_refused(outcome: Permanent) -> Transient:
    """A refused lookup proves nothing about the job: treat it as not answered yet."""
    return Transient(
        kind="http",
        status=outcome.status,
        ambiguous=True,
        detail=f"lookup refused: {outcome.detail}",
    )
