"""The process manager's decisions as tables: every outcome class of every vendor call, on
intents with and without budget, with and without an attempt that may have reached the
vendor. Pure functions: no store, no clock, no vendor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofqueue.domain.backoff import RetryPolicy
from proofqueue.domain.intent import Intent, Status
from proofqueue.ports import (
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
from proofqueue.process.decisions import (
    FOUND_NONE,
    NO_LOOKUP,
    BudgetSpent,
    Create,
    Decision,
    Fail,
    Lookup,
    PollAgain,
    ScheduleRetry,
    Settle,
    Submit,
    Timing,
    decide_after_claim,
    decide_after_create,
    decide_after_last_lookup,
    decide_after_lookup,
    decide_after_read,
    decide_budget_spent,
)
from proofqueue.process.reactions import REACTIONS, Reaction, reaction_to

NOW = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RetryPolicy(base_s=0.5, cap_s=60.0, max_attempts=12, budget_s=86_400)
TIMING = Timing(retry=POLICY, reconcile_after_s=10.0, poll_s=0.5, poll_cap_s=5.0)
RAND = 0.5
LEASE = timedelta(seconds=30)

E500 = Transient("http", "internal error", status=500, ambiguous=True)
E503 = Transient("http", "unavailable", status=503)
LIMITED = Transient("rate_limited", "slow down", status=429, retry_after=30.0)
TIMEOUT = Transient("timeout", "read timed out", ambiguous=True)
REFUSED = Transient("connection", "refused")
JOB = Job("job-1", "REQUEST", client_request_id="r")


def intent(*, attempts: int = 1, ambiguous: bool = False, max_attempts: int = 12) -> Intent:
    """An intent with ``attempts`` attempts claimed (the last one in flight)."""
    made = Intent.queue(
        request_id="r",
        actor="a",
        target="0xP/logo",
        params_public={},
        params_sealed=None,
        params_plain={},
        params_digest="d",
        max_attempts=max_attempts,
        deadline=NOW + timedelta(days=1),
        now=NOW,
    )
    for n in range(attempts):
        made.start_attempt(worker="w", lease=LEASE, now=NOW)
        if n < attempts - 1 or ambiguous:
            made.schedule_retry(
                error="http",
                status_code=500,
                detail="x",
                ambiguous=ambiguous,
                next_attempt_at=NOW,
                now=NOW,
            )
    return made


def retry_at(attempts: int, retry_after: float | None = None) -> datetime:
    return NOW + timedelta(seconds=POLICY.delay(attempts, RAND, retry_after))


# -- after a claim -------------------------------------------------------------------------


@pytest.mark.parametrize(("ambiguous", "expected"), [(False, Create()), (True, Lookup("attempt"))])
def test_a_claim_after_an_ambiguous_attempt_looks_up_first(
    ambiguous: bool, expected: Decision
) -> None:
    """An attempt that may have reached the vendor is looked up before any new create."""
    assert decide_after_claim(intent(ambiguous=ambiguous)) == expected


def refused(code: int, why: str) -> Fail:
    return Fail("permanent", f"vendor refused: {code} {why}", code)


# -- after a create ------------------------------------------------------------------------

CREATE_TABLE: list[tuple[str, CreateOutcome, str | None, Decision]] = [
    ("accepted", Accepted("job-1"), None, Submit("job-1", False, None)),
    (
        "replayed",
        Accepted("job-1", replayed=True),
        None,
        Submit("job-1", True, "idempotency-replay"),
    ),
    ("accepted after lookup", Accepted("job-1"), FOUND_NONE, Submit("job-1", False, FOUND_NONE)),
    *[
        (f"refused {code}", Permanent(code, why), None, refused(code, why))
        for code, why in [(400, "bad body"), (401, "bad key"), (404, "no such"), (422, "conflict")]
    ],
    (
        "500",
        E500,
        None,
        ScheduleRetry(
            "http", 500, "http 500: internal error; may have reached the vendor", True, retry_at(1)
        ),
    ),
    ("503", E503, None, ScheduleRetry("http", 503, "http 503: unavailable", False, retry_at(1))),
    (
        "429 with Retry-After",
        LIMITED,
        None,
        ScheduleRetry(
            "rate_limited",
            429,
            "rate_limited 429: slow down (Retry-After 30s)",
            False,
            NOW + timedelta(seconds=30),
        ),
    ),
    (
        "timeout: wait for a late commit before looking up",
        TIMEOUT,
        None,
        ScheduleRetry(
            "timeout",
            None,
            "timeout: read timed out; may have reached the vendor",
            True,
            NOW + timedelta(seconds=10),
        ),
    ),
    (
        "connection refused",
        REFUSED,
        None,
        ScheduleRetry("connection", None, "connection: refused", False, retry_at(1)),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("outcome", "note", "expected"),
    [row[1:] for row in CREATE_TABLE],
    ids=[row[0] for row in CREATE_TABLE],
)
def test_each_create_outcome_has_one_decision(
    outcome: CreateOutcome, note: str | None, expected: Decision
) -> None:
    """Accepted submits, permanent fails, transient retries with full jitter."""
    assert decide_after_create(outcome, intent(), NOW, TIMING, RAND, note) == expected


@pytest.mark.parametrize("outcome", [E500, E503, LIMITED, TIMEOUT, REFUSED])
def test_a_transient_failure_of_the_last_attempt_spends_the_budget(outcome: Transient) -> None:
    """With no attempt left, a transient failure gives up, ambiguous when it may have
    reached the vendor."""
    decided = decide_after_create(outcome, intent(attempts=3, max_attempts=3), NOW, TIMING, RAND)
    assert isinstance(decided, BudgetSpent)
    assert decided.ambiguous == outcome.ambiguous
    assert decided.detail.startswith("last error: ")


def test_a_retry_past_the_deadline_spends_the_budget() -> None:
    """A next attempt that would fall after the deadline is not scheduled."""
    late = Transient("rate_limited", "slow", status=429, retry_after=2 * 86_400.0)
    assert isinstance(decide_after_create(late, intent(), NOW, TIMING, RAND), BudgetSpent)


@given(
    attempts=st.integers(1, 11),
    rand=st.floats(0, 1, exclude_max=True),
    retry_after=st.none() | st.floats(0, 3600),
    kind=st.sampled_from(["http", "rate_limited", "timeout", "connection"]),
    ambiguous=st.booleans(),
)
def test_a_retry_is_never_earlier_than_now_nor_later_than_its_bounds(
    attempts: int, rand: float, retry_after: float | None, kind: str, ambiguous: bool
) -> None:
    """The next attempt lies between now and the largest of the cap, the Retry-After and
    the reconcile wait."""
    outcome = Transient(kind, "x", retry_after=retry_after, ambiguous=ambiguous)  # type: ignore[arg-type]
    decided = decide_after_create(outcome, intent(attempts=attempts), NOW, TIMING, rand)
    assert isinstance(decided, ScheduleRetry)
    wait = (decided.next_attempt_at - NOW).total_seconds()
    assert 0 <= wait <= max(POLICY.cap_s, retry_after or 0, TIMING.reconcile_after_s) + 1e-6
    if retry_after is not None:
        assert wait >= retry_after - 1e-6


# -- after a lookup (before a create that may repeat an earlier one) ------------------------

TWO = (JOB, Job("job-2", "REQUEST", client_request_id="r"))
LOOKUP_TABLE: list[tuple[str, LookupOutcome, Decision]] = [
    ("one job found", Found((JOB,)), Submit("job-1", False, "lookup")),
    (
        "two jobs found",
        Found(TWO),
        Submit("job-1", False, "lookup: the vendor holds 2 jobs (job-1, job-2)"),
    ),
    ("none found", Found(()), Create(FOUND_NONE)),
    ("no lookup", LookupUnsupported("no"), Create(NO_LOOKUP)),
    (
        "lookup refused",
        Permanent(401, "bad key"),
        ScheduleRetry(
            "http", 401, "http 401: lookup refused: bad key; may have reached the vendor", True,
            retry_at(1),
        ),
    ),
    (
        "lookup failed",
        E503,
        ScheduleRetry("http", 503, "http 503: unavailable", False, retry_at(1)),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("outcome", "expected"), [row[1:] for row in LOOKUP_TABLE], ids=[row[0] for row in LOOKUP_TABLE]
)
def test_each_lookup_outcome_has_one_decision(outcome: LookupOutcome, expected: Decision) -> None:
    """A job found is the purchase; none found or no lookup lets the create be resent."""
    assert decide_after_lookup(outcome, intent(ambiguous=True), NOW, TIMING, RAND) == expected


# -- when the budget is spent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spent_ambiguous", "intent_ambiguous", "looks_up"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
def test_a_spent_budget_fails_only_when_no_job_can_exist(
    spent_ambiguous: bool, intent_ambiguous: bool, looks_up: bool
) -> None:
    """Failing while the vendor may hold a job would lose a purchase: look it up first."""
    spent = BudgetSpent("last error: x", spent_ambiguous)
    decided = decide_budget_spent(intent(ambiguous=intent_ambiguous), spent)
    if looks_up:
        assert decided == Lookup("give_up")
    else:
        assert decided == Fail("budget", "retry budget exhausted after 1 attempts; last error: x")


LAST_LOOKUP_TABLE: list[tuple[str, LookupOutcome, type[Decision], str]] = [
    ("job found", Found((JOB,)), Submit, "lookup"),
    ("none found", Found(()), Fail, "retry budget exhausted after 1 attempts; last error: x"),
    ("no lookup", LookupUnsupported("no"), Fail, "offers no lookup"),
    ("lookup failed", E503, ScheduleRetry, "the job will be looked up before failing"),
    ("lookup refused", Permanent(401, "k"), ScheduleRetry, "lookup refused"),
]


@pytest.mark.parametrize(
    ("outcome", "kind", "says"),
    [row[1:] for row in LAST_LOOKUP_TABLE],
    ids=[row[0] for row in LAST_LOOKUP_TABLE],
)
def test_the_last_lookup_decides_between_the_job_found_failing_and_waiting(
    outcome: LookupOutcome, kind: type[Decision], says: str
) -> None:
    """After the budget: the job found is recorded; no answer waits for one; none fails."""
    spent = BudgetSpent("last error: x", True)
    decided = decide_after_last_lookup(outcome, intent(), spent, NOW, TIMING, RAND)
    assert isinstance(decided, kind)
    text = {Submit: "reconciled", Fail: "detail", ScheduleRetry: "detail"}[type(decided)]
    assert says in str(getattr(decided, text))
    if isinstance(decided, ScheduleRetry):
        assert decided.ambiguous
        assert decided.error == "reconcile"


# -- after a job read -----------------------------------------------------------------------

READ_TABLE: list[tuple[str, JobOutcome, int, Decision]] = [
    ("completed", Job("job-1", "COMPLETED", "d-1"), 0, Settle("d-1", "COMPLETED")),
    (
        "completed, no deliverable: unclear, read less often",
        Job("job-1", "COMPLETED"),
        0,
        PollAgain(
            10.0, 0, "vendor answered COMPLETED without a deliverable for job job-1", "COMPLETED"
        ),
    ),
    (
        "unknown phase: unclear, read less often",
        Job("job-1", "PAUSED"),
        0,
        PollAgain(10.0, 0, "vendor answered an unknown phase 'PAUSED' for job job-1", "PAUSED"),
    ),
    ("rejected", Job("job-1", "REJECTED"), 0, Fail("rejected", "vendor REJECTED job job-1")),
    ("expired", Job("job-1", "EXPIRED"), 0, Fail("expired", "vendor EXPIRED job job-1")),
    ("in progress", Job("job-1", "TRANSACTION"), 0, PollAgain(1.0, 0)),
    ("404 once", Permanent(404, "gone"), 0, PollAgain(1.0, 1)),
    ("404 twice", Permanent(404, "gone"), 1, PollAgain(1.0, 2)),
    (
        "404 thrice",
        Permanent(404, "gone"),
        2,
        Fail("permanent", "vendor no longer knows job job-1: gone", 404),
    ),
    ("read failed", E503, 1, PollAgain(1.0, 1)),
]


@pytest.mark.parametrize(
    ("outcome", "misses", "expected"),
    [row[1:] for row in READ_TABLE],
    ids=[row[0] for row in READ_TABLE],
)
def test_each_job_read_has_one_decision(
    outcome: JobOutcome, misses: int, expected: Decision
) -> None:
    """Settle a completed job with its deliverable, fail a rejected or expired one, else
    read again later."""
    assert decide_after_read(outcome, "job-1", 0.5, misses, TIMING) == expected


@given(st.floats(0.01, 100))
def test_job_reads_back_off_up_to_their_cap(interval: float) -> None:
    """The read interval doubles and never passes its cap."""
    decided = decide_after_read(E503, "job-1", interval, 0, TIMING)
    assert isinstance(decided, PollAgain)
    assert decided.interval_s == min(TIMING.poll_cap_s, interval * 2)


# -- the reaction table ---------------------------------------------------------------------


def test_every_intent_event_has_exactly_one_reaction() -> None:
    """The reaction table covers each event class of the intent, and nothing else."""
    events = {
        value
        for value in vars(Intent).values()
        if isinstance(value, type)
        and issubclass(value, Intent.Event | Intent.Created)
        and value not in (Intent.Event, Intent.Created)
    }
    assert set(REACTIONS) == events


@pytest.mark.parametrize(
    ("status", "reaction"),
    [
        (Status.QUEUED, Reaction.ATTEMPT),
        (Status.RETRYING, Reaction.ATTEMPT),
        (Status.SUBMITTED, Reaction.FOLLOW),
        (Status.SETTLED, Reaction.NONE),
        (Status.FAILED, Reaction.NONE),
    ],
)
def test_the_reaction_follows_the_latest_event(status: Status, reaction: Reaction) -> None:
    """Queued and retrying intents are due work; a submitted one is followed; terminal
    ones need nothing."""
    made = intent(attempts=0)
    if status == Status.RETRYING:
        made.start_attempt(worker="w", lease=LEASE, now=NOW)
        made.schedule_retry(
            error="http", status_code=503, detail="x", ambiguous=False, next_attempt_at=NOW, now=NOW
        )
    if status in (Status.SUBMITTED, Status.SETTLED):
        made.submit(job_id="job-1", replayed=False, reconciled=None, now=NOW)
    if status == Status.SETTLED:
        made.settle(deliverable_id="d", phase="COMPLETED", now=NOW)
    if status == Status.FAILED:
        made.fail(reason="permanent", detail="x", now=NOW)
    assert made.status == status
    assert reaction_to(made) == reaction
