"""The Intent aggregate (``proofqueue.domain.intent``): its transitions and its trail."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.application import Application
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from proofqueue.domain.breaker import Breaker, BreakerPolicy
from proofqueue.domain.breaker_log import BreakerLog, breaker_id
from proofqueue.domain.chained import event_fields, iso
from proofqueue.domain.errors import IllegalTransition
from proofqueue.domain.intent import Intent, Status, intent_id
from proofqueue.domain.proof import ChainLink, first_break

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=30)
Q, R, S, SETTLED, F = (
    Status.QUEUED,
    Status.RETRYING,
    Status.SUBMITTED,
    Status.SETTLED,
    Status.FAILED,
)
# design.md: Queued -> (RetryScheduled)* -> Submitted -> Settled, or -> Failed from any
# non-terminal state. (QUEUED -> QUEUED is an attempt claim.)
LEGAL_EDGES = {
    (Q, Q),
    (Q, R),
    (Q, S),
    (Q, F),
    (R, R),
    (R, S),
    (R, F),
    (S, SETTLED),
    (S, F),
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def queued(request_id: str = "order-1", now: datetime = T0, max_attempts: int = 12) -> Intent:
    return Intent.queue(
        request_id=request_id,
        actor="agent-7",
        target="0xProvider/logo",
        params_public={"size": 3},
        params_sealed=None,
        params_plain={"size": 3},
        params_digest="sha256:" + "0" * 64,
        max_attempts=max_attempts,
        deadline=now + timedelta(hours=24),
        now=now,
    )


def retry(intent: Intent, now: datetime, *, after: float = 1.0, ambiguous: bool = False) -> None:
    intent.schedule_retry(
        error="http",
        status_code=503,
        detail="http 503: unavailable",
        ambiguous=ambiguous,
        next_attempt_at=now + timedelta(seconds=after),
        now=now,
    )


def submitted(now: datetime = T0) -> Intent:
    intent = queued(now=now)
    intent.start_attempt(worker="w1", lease=LEASE, now=now)
    intent.submit(job_id="job-1", replayed=False, reconciled=None, now=now)
    return intent


def links_of(events: Any) -> list[ChainLink]:
    return [
        ChainLink(e.originator_version, type(e).__name__, iso(e.timestamp), event_fields(e), e.hash)
        for e in events
    ]


def expect_refusal(intent: Intent, command: Callable[[], object], *, match: str) -> None:
    """The command raises IllegalTransition and records nothing."""
    version, pending = intent.version, len(intent.pending_events)
    with pytest.raises(IllegalTransition, match=match):
        command()
    assert (intent.version, len(intent.pending_events)) == (version, pending)


# -- queue and attempts ---------------------------------------------------------------------


def test_a_queued_intent_is_due_at_once_with_its_budget_armed() -> None:
    """Queued: status QUEUED, no attempts, due now, deadline 24 h on."""
    intent = queued()
    assert intent.status == Q
    assert intent.attempts == 0
    assert intent.is_due(T0)
    assert intent.budget_left(T0)
    assert intent.deadline == at(24 * 3600)
    assert intent.queued_at == T0
    assert intent.version == 1
    assert intent.id == intent_id("order-1")


def test_the_intent_id_is_the_same_for_a_request_id_everywhere() -> None:
    """intent_id is a name-based UUID: stable across processes, distinct per request_id."""
    assert intent_id("order-1") == intent_id("order-1")
    assert intent_id("order-1") != intent_id("order-2")
    assert intent_id("order-1").version == 5
    assert isinstance(intent_id("x"), uuid.UUID)


def test_starting_an_attempt_claims_it_for_the_lease() -> None:
    """AttemptStarted numbers the attempt and holds it: not due, not claimable again."""
    intent = queued()
    assert intent.start_attempt(worker="w1", lease=LEASE, now=at(1)) == 1
    assert intent.status == Q
    assert intent.claimed(at(30))
    assert not intent.is_due(at(30))
    expect_refusal(
        intent,
        lambda: intent.start_attempt(worker="w2", lease=LEASE, now=at(2)),
        match="claimed elsewhere",
    )


def test_an_attempt_whose_lease_ran_out_is_taken_over_as_ambiguous() -> None:
    """A claim never resolved may have reached the vendor: the next one is a takeover,
    made only when the taker says the lease ran out (wall clocks do not decide it)."""
    intent = queued()
    intent.start_attempt(worker="w1", lease=LEASE, now=at(0))
    assert not intent.ambiguous
    assert not intent.is_due(at(3600))  # still claimed, whatever a clock says
    expect_refusal(
        intent,
        lambda: intent.start_attempt(worker="w2", lease=LEASE, now=at(3600)),
        match="claimed elsewhere",
    )
    assert intent.start_attempt(worker="w2", lease=LEASE, now=at(31), take_over=True) == 2
    event = intent.pending_events[-1]
    assert isinstance(event, Intent.AttemptStarted)
    assert event.takeover is True
    assert event.worker == "w2"
    assert intent.ambiguous


def test_a_retry_records_the_error_and_the_next_attempt_time() -> None:
    """RetryScheduled: RETRYING, claim released, due only from next_attempt_at."""
    intent = queued()
    intent.start_attempt(worker="w1", lease=LEASE, now=at(0))
    retry(intent, at(1), after=4.0, ambiguous=True)
    assert intent.status == R
    assert intent.claim_until is None
    assert intent.last_error == "http 503: unavailable"
    assert intent.next_attempt_at == at(5)
    assert intent.ambiguous
    assert not intent.is_due(at(4.999))
    assert intent.is_due(at(5))


def test_ambiguity_is_sticky_across_later_plain_failures() -> None:
    """Once an attempt may have reached the vendor, later clean failures do not clear it."""
    intent = queued()
    retry(intent, at(0), ambiguous=True)
    retry(intent, at(1), ambiguous=False)
    assert intent.ambiguous


def test_the_budget_runs_out_by_attempts_or_by_deadline() -> None:
    """budget_left: fewer attempts than max_attempts and before the deadline."""
    intent = queued(max_attempts=2)
    intent.start_attempt(worker="w", lease=LEASE, now=at(0))
    retry(intent, at(0))
    assert intent.budget_left(at(1))
    intent.start_attempt(worker="w", lease=LEASE, now=at(2))
    assert not intent.budget_left(at(3))
    fresh = queued()
    assert fresh.budget_left(at(24 * 3600 - 1))
    assert not fresh.budget_left(at(24 * 3600))


# -- submit, settle, fail -------------------------------------------------------------------


def test_submit_records_the_vendors_job() -> None:
    """Submitted: SUBMITTED with the job id, no next attempt."""
    intent = submitted()
    assert intent.status == S
    assert intent.job_id == "job-1"
    assert intent.next_attempt_at is None
    assert intent.claim_until is None
    assert not intent.is_due(at(100))


def test_settle_records_the_deliverable() -> None:
    """Settled: SETTLED with deliverable and time; terminal."""
    intent = submitted()
    intent.settle(deliverable_id="d-1", phase="COMPLETED", now=at(9))
    assert intent.status == SETTLED
    assert intent.deliverable_id == "d-1"
    assert intent.settled_at == at(9)
    assert intent.is_terminal
    event = intent.pending_events[-1]
    assert isinstance(event, Intent.Settled)
    assert event.job_id == "job-1"


@pytest.mark.parametrize("start", ["queued", "retrying", "submitted"])
def test_fail_is_legal_from_every_non_terminal_state(start: str) -> None:
    """Failed from QUEUED, RETRYING or SUBMITTED: FAILED with reason and detail."""
    intent = submitted() if start == "submitted" else queued()
    if start == "retrying":
        retry(intent, at(0))
    intent.fail(reason="rejected", detail="vendor REJECTED job job-1", now=at(5))
    assert intent.status == F
    assert intent.failure == "rejected: vendor REJECTED job job-1"
    assert intent.last_error == intent.failure
    assert intent.is_terminal


def test_settle_before_submission_is_illegal() -> None:
    """No job, nothing to settle."""
    intent = queued()
    expect_refusal(
        intent,
        lambda: intent.settle(deliverable_id="d", phase="COMPLETED", now=at(1)),
        match="cannot settle 'order-1', it is QUEUED",
    )


@pytest.mark.parametrize("end", ["settled", "failed"])
def test_terminal_intents_accept_no_command(end: str) -> None:
    """SETTLED and FAILED are final: every command is refused and nothing is recorded."""
    intent = submitted()
    if end == "settled":
        intent.settle(deliverable_id="d", phase="COMPLETED", now=at(1))
    else:
        intent.fail(reason="expired", detail="vendor EXPIRED", now=at(1))
    commands: list[Callable[[], object]] = [
        lambda: intent.start_attempt(worker="w", lease=LEASE, now=at(2)),
        lambda: retry(intent, at(2)),
        lambda: intent.submit(job_id="j", replayed=False, reconciled=None, now=at(2)),
        lambda: intent.settle(deliverable_id="d2", phase="COMPLETED", now=at(2)),
        lambda: intent.fail(reason="x", detail="y", now=at(2)),
        lambda: intent.cancel(operator="op", reason="r", now=at(2)),
        lambda: intent.operator_retry(operator="op", extra_attempts=1, window=LEASE, now=at(2)),
    ]
    for command in commands:
        expect_refusal(intent, command, match=f"it is {intent.status.value}")


@pytest.mark.parametrize(
    "command",
    [
        lambda i: i.start_attempt(worker="w", lease=LEASE, now=at(2)),
        lambda i: retry(i, at(2)),
        lambda i: i.submit(job_id="j2", replayed=False, reconciled=None, now=at(2)),
        lambda i: i.operator_retry(operator="op", extra_attempts=1, window=LEASE, now=at(2)),
    ],
    ids=["start_attempt", "schedule_retry", "submit", "operator_retry"],
)
def test_a_submitted_intent_cannot_be_attempted_again(command: Callable[[Intent], object]) -> None:
    """Once the vendor holds a job, nothing may buy it again."""
    intent = submitted()
    expect_refusal(intent, lambda: command(intent), match="the vendor already holds a job")


# -- operator actions -----------------------------------------------------------------------


def test_cancel_fails_an_open_intent_naming_the_operator() -> None:
    """cancel: FAILED with reason 'cancelled', the operator's words and name recorded."""
    intent = queued()
    retry(intent, at(0))
    intent.cancel(operator="alice", reason="customer withdrew", now=at(3))
    assert intent.status == F
    event = intent.pending_events[-1]
    assert isinstance(event, Intent.Failed)
    assert (event.reason, event.detail, event.operator) == (
        "cancelled",
        "customer withdrew",
        "alice",
    )


def test_cancel_after_submission_is_refused_because_the_vendor_holds_a_job() -> None:
    """A submitted intent cannot be cancelled here: the vendor already holds a job for it."""
    intent = submitted()
    expect_refusal(
        intent,
        lambda: intent.cancel(operator="alice", reason="oops", now=at(1)),
        match=r"cannot cancel 'order-1', it is SUBMITTED: the vendor already holds a job for it",
    )


def test_cancel_during_an_attempt_in_flight_is_refused() -> None:
    """While an attempt is claimed the vendor may be buying: try again later."""
    intent = queued()
    intent.start_attempt(worker="w", lease=LEASE, now=at(0))
    expect_refusal(
        intent,
        lambda: intent.cancel(operator="alice", reason="r", now=at(10)),
        match="an attempt is in flight",
    )
    intent.cancel(operator="alice", reason="r", now=at(31))
    assert intent.status == F


def test_operator_retry_attempts_now_and_rearms_the_budget() -> None:
    """operator_retry: due now, extra attempts on top of those used, deadline pushed on."""
    intent = queued(max_attempts=2)
    intent.start_attempt(worker="w", lease=LEASE, now=at(0))
    retry(intent, at(0), after=50)
    intent.operator_retry(operator="bob", extra_attempts=12, window=timedelta(hours=48), now=at(10))
    assert intent.status == R
    assert intent.is_due(at(10))
    assert intent.max_attempts == 13
    assert intent.deadline == at(10 + 48 * 3600)
    assert intent.last_error == "http 503: unavailable"  # the vendor's error stays visible
    event = intent.pending_events[-1]
    assert isinstance(event, Intent.RetryScheduled)
    assert event.operator == "bob"
    assert event.detail == "retry requested by bob"


def test_operator_retry_never_shortens_the_deadline() -> None:
    """A window shorter than what is left keeps the original deadline."""
    intent = queued()
    intent.operator_retry(operator="bob", extra_attempts=1, window=timedelta(hours=1), now=at(0))
    assert intent.deadline == at(24 * 3600)


# -- the log round trip ---------------------------------------------------------------------


def every_event_type() -> Intent:
    intent = queued()
    intent.start_attempt(worker="w1", lease=LEASE, now=at(1))
    retry(intent, at(2), ambiguous=True)
    intent.operator_retry(operator="bob", extra_attempts=3, window=LEASE, now=at(3))
    intent.start_attempt(worker="w2", lease=LEASE, now=at(4))
    intent.submit(job_id="job-1", replayed=True, reconciled="no-lookup", now=at(5))
    intent.settle(deliverable_id="d-1", phase="COMPLETED", now=at(6))
    return intent


def failed_intent() -> Intent:
    intent = queued("order-2")
    intent.fail(reason="permanent", detail="404 unknown offering", status_code=404, now=at(1))
    return intent


def test_every_event_type_survives_the_store_unchanged() -> None:
    """Each event comes back from a popo-store Application equal, same hash, still chained."""
    app: Application[Any] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    seen: set[str] = set()
    for intent in (every_event_type(), failed_intent()):
        written: list[Any] = list(intent.pending_events)
        app.save(intent)
        read: list[Any] = list(app.events.get(intent.id))
        assert read == written
        assert [e.hash for e in read] == [e.hash for e in written]
        assert first_break(str(intent.id), links_of(read)) is None
        loaded: Intent = app.repository.get(intent.id)
        assert loaded.status == intent.status
        assert loaded.proof_head == intent.proof_head
        seen.update(type(e).__name__ for e in read)
    assert seen == {"Queued", "AttemptStarted", "RetryScheduled", "Submitted", "Settled", "Failed"}
    app.close()


def test_breaker_log_events_survive_the_store_unchanged() -> None:
    """Opened and Transitioned come back equal and still chain."""
    policy = BreakerPolicy()
    log = BreakerLog.open("vendor-x", T0)
    breaker = Breaker(since=T0)
    move = None
    for _ in range(10):
        breaker, move = breaker.record(at(1), failed=True, duration_s=0.1, policy=policy)
    assert move is not None
    log.record(move, worker="w1", probe_until=None)
    app: Application[Any] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    written: list[Any] = list(log.pending_events)
    app.save(log)
    read: list[Any] = list(app.events.get(breaker_id("vendor-x")))
    assert read == written
    assert first_break(str(breaker_id("vendor-x")), links_of(read)) is None
    loaded: BreakerLog = app.repository.get(breaker_id("vendor-x"))
    assert loaded.last == move
    assert loaded.breaker(T0) == Breaker.after(move)
    app.close()


# -- a random walk over commands ------------------------------------------------------------


class IntentWalk(RuleBasedStateMachine):
    """Random commands: legal ones follow design.md's edges, illegal ones record nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.intent = queued(max_attempts=4)
        self.events: list[Any] = list(self.intent.collect_events())
        self.claim_until: datetime | None = None

    def attempt(self, command: Callable[[], object], legal: bool, expected: Status | None) -> None:
        before = self.intent.status
        version = self.intent.version
        if not legal:
            with pytest.raises(IllegalTransition):
                command()
            assert self.intent.version == version
            assert self.intent.pending_events == []
            return
        command()
        after = self.intent.status
        assert (before, after) in LEGAL_EDGES
        assert after == (expected or before)
        new = list(self.intent.collect_events())
        assert len(new) == 1
        self.events.extend(new)

    @property
    def open(self) -> bool:
        return self.intent.status in (Q, R)

    @property
    def claimed(self) -> bool:
        return self.claim_until is not None and self.now < self.claim_until

    @rule(seconds=st.sampled_from([0.0, 1.0, 10.0, 31.0, 120.0]))
    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(take_over=st.booleans())
    def start_attempt(self, take_over: bool) -> None:
        legal = self.open and (self.claim_until is None or take_over)
        self.attempt(
            lambda: self.intent.start_attempt(
                worker="w", lease=LEASE, now=self.now, take_over=take_over
            ),
            legal,
            None,
        )
        if legal:
            self.claim_until = self.now + LEASE

    @rule(ambiguous=st.booleans(), after=st.floats(0, 100))
    def schedule_retry(self, ambiguous: bool, after: float) -> None:
        legal = self.open
        self.attempt(
            lambda: retry(self.intent, self.now, after=after, ambiguous=ambiguous), legal, R
        )
        if legal:
            self.claim_until = None

    @rule(replayed=st.booleans())
    def submit(self, replayed: bool) -> None:
        self.attempt(
            lambda: self.intent.submit(
                job_id="j", replayed=replayed, reconciled=None, now=self.now
            ),
            self.open,
            S,
        )

    @rule()
    def settle(self) -> None:
        self.attempt(
            lambda: self.intent.settle(deliverable_id="d", phase="COMPLETED", now=self.now),
            self.intent.status == S,
            SETTLED,
        )

    @rule()
    def fail(self) -> None:
        self.attempt(
            lambda: self.intent.fail(reason="budget", detail="out", now=self.now),
            not self.intent.is_terminal,
            F,
        )

    @rule()
    def cancel(self) -> None:
        self.attempt(
            lambda: self.intent.cancel(operator="op", reason="stop", now=self.now),
            self.open and not self.claimed,
            F,
        )

    @rule(extra=st.integers(1, 5))
    def operator_retry(self, extra: int) -> None:
        legal = self.open and not self.claimed
        self.attempt(
            lambda: self.intent.operator_retry(
                operator="op", extra_attempts=extra, window=LEASE, now=self.now
            ),
            legal,
            R,
        )
        if legal:
            self.claim_until = None

    @invariant()
    def the_chain_verifies_and_its_head_is_the_proof(self) -> None:
        links = links_of(self.events)
        assert first_break(str(self.intent.id), links) is None
        assert self.intent.proof_head == links[-1].hash
        assert self.intent.version == len(self.events)

    @invariant()
    def replaying_the_events_gives_the_same_intent(self) -> None:
        rebuilt: Any = None
        for event in self.events:
            rebuilt = event.mutate(rebuilt)
        assert rebuilt.status == self.intent.status
        assert rebuilt.attempts == self.intent.attempts
        assert rebuilt.proof_head == self.intent.proof_head

    @invariant()
    def only_open_intents_are_due(self) -> None:
        if self.intent.is_due(self.now):
            assert self.open
            assert self.claim_until is None


IntentWalk.TestCase.settings = settings(max_examples=50, stateful_step_count=25, deadline=None)
test_intent_random_walk_moves_only_along_legal_edges = IntentWalk.TestCase
