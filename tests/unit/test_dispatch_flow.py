"""The application end to end with a fake vendor on the in-memory store: submit, retry,
reconcile, settle, fail, idempotency, secrets, the breaker's gate and operator actions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from pydantic import SecretStr

from proofqueue import (
    BreakerState,
    IdempotencyConflict,
    IllegalTransition,
    IntentNotFound,
    JsonValue,
    ProofQueue,
    RetryPolicy,
    SecretNeedsKey,
    Settings,
    Status,
)
from proofqueue.adapters.sealing import new_key
from proofqueue.ports import Found, Job, JobOrder, Permanent, Transient
from proofqueue.process.manager import ProcessManager
from proofqueue.testing.fakes import Call, Clock, CreatedThenLost, FakeVendor

RID = "order-1"
TARGET = "0xProvider/logo"
PARAMS: dict[str, JsonValue] = {"size": 3, "colors": ["red", "blue"]}
SERVER_ERROR = Transient("http", "internal error", status=500, ambiguous=True)
UNAVAILABLE = Transient("http", "unavailable", status=503)


@dataclass
class Dice:
    """The process manager's randomness, fixed by the test."""

    value: float = 0.5

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture
def dice() -> Dice:
    return Dice()


def make(
    vendor: FakeVendor, clock: Clock, dice: Dice, settings: Settings | None = None
) -> ProofQueue:
    return ProofQueue(
        settings or Settings(store=":memory:"),
        vendor=vendor,
        clock=clock,
        rand=dice,
        worker_name="worker-test",
    )


@pytest.fixture
def pq(vendor: FakeVendor, clock: Clock, dice: Dice) -> Iterator[ProofQueue]:
    with make(vendor, clock, dice) as queue:
        yield queue


def worker(pq: ProofQueue) -> ProcessManager:
    assert pq.parts.manager is not None
    return pq.parts.manager


def submit(pq: ProofQueue, request_id: str = RID, params: Any = None, **kw: Any) -> Any:
    return pq.submit(
        request_id,
        actor=kw.pop("actor", "agent-7"),
        target=kw.pop("target", TARGET),
        params=PARAMS if params is None else params,
        **kw,
    )


def events(pq: ProofQueue, request_id: str = RID) -> list[dict[str, Any]]:
    return [event.model_dump(mode="json") for event in pq.show(request_id).events]


def last_event(pq: ProofQueue, request_id: str = RID) -> dict[str, Any]:
    return events(pq, request_id)[-1]


def at_next_attempt(pq: ProofQueue, clock: Clock, request_id: str = RID) -> None:
    """Move the clock to the recorded next attempt time."""
    next_at = pq.parts.log.intent(request_id).next_attempt_at
    assert next_at is not None
    clock.now = max(clock.now, next_at)


def log_size(pq: ProofQueue) -> int:
    size: int = pq.parts.log.recorder.max_notification_id() or 0
    return size


# -- the happy path -------------------------------------------------------------------------


def test_submit_while_ok_sends_the_job_at_once(pq: ProofQueue, vendor: FakeVendor) -> None:
    """The first submit calls the vendor once, with the request_id as idempotency key."""
    receipt = submit(pq)
    assert receipt.status == "SUBMITTED"
    assert receipt.job_id == "job-1"
    assert receipt.attempts == 1
    assert vendor.calls == [Call("create", RID, JobOrder(RID, "0xProvider", "logo", PARAMS))]
    assert [e["type"] for e in events(pq)] == ["Queued", "AttemptStarted", "Submitted"]


def test_a_completed_job_settles_the_intent_with_a_final_receipt(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """Reading a COMPLETED job with a deliverable settles it; the receipt proves it."""
    submit(pq)
    vendor.set_phase("job-1", "COMPLETED", deliverable_id="deliv-1")
    clock.advance(5)
    worker(pq).follow(RID, "job-1")
    receipt = pq.receipt(RID)
    assert receipt.status == "SETTLED"
    assert receipt.is_final
    assert receipt.deliverable_id == "deliv-1"
    assert receipt.settled_at == clock.now
    assert receipt.proof == last_event(pq)["hash"]
    assert vendor.calls_of("get") == [Call("get", "job-1")]
    assert pq.verify([RID]).ok


def test_a_job_still_in_progress_leaves_the_intent_submitted(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """A TRANSACTION-phase job changes nothing."""
    submit(pq)
    vendor.set_phase("job-1", "TRANSACTION")
    worker(pq).follow(RID, "job-1")
    assert pq.receipt(RID).status == "SUBMITTED"
    assert len(events(pq)) == 3


@pytest.mark.parametrize("phase", ["REJECTED", "EXPIRED"])
def test_a_rejected_or_expired_job_fails_the_intent(
    pq: ProofQueue, vendor: FakeVendor, phase: str
) -> None:
    """The vendor gave up on the job: the intent fails with the phase as its reason."""
    submit(pq)
    vendor.set_phase("job-1", phase)
    worker(pq).follow(RID, "job-1")
    assert pq.receipt(RID).status == "FAILED"
    failed = last_event(pq)
    assert failed["type"] == "Failed"
    assert failed["fields"]["reason"] == phase.lower()
    assert "job-1" in failed["fields"]["detail"]


# -- transient failures and the retry schedule ----------------------------------------------


@pytest.mark.parametrize("rand", [0.0, 0.3, 0.999])
def test_a_transient_500_schedules_a_retry_within_full_jitter_bounds(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock, dice: Dice, rand: float
) -> None:
    """Attempt n failing schedules the next in now + rand * min(60, 0.5 * 2**(n-1))."""
    dice.value = rand
    vendor.script(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE)
    receipt = submit(pq)
    assert receipt.status == "RETRYING"
    for n in (1, 2, 3):
        intent = pq.parts.log.intent(RID)
        assert intent.attempts == n
        delay = (intent.next_attempt_at - clock.now).total_seconds()  # type: ignore[operator]
        ceiling = min(60.0, 0.5 * 2 ** (n - 1))
        assert 0.0 <= delay <= ceiling
        assert delay == pytest.approx(rand * ceiling, abs=1e-6)
        retry = last_event(pq)
        assert retry["type"] == "RetryScheduled"
        assert retry["fields"]["status_code"] == 503
        assert retry["fields"]["attempt"] == n
        clock.advance(ceiling + 0.001)
        worker(pq).attempt(RID)
    assert pq.receipt(RID).status == "SUBMITTED"
    assert len(vendor.calls_of("create")) == 4


def test_the_operator_list_shows_the_error_and_the_next_attempt(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock, dice: Dice
) -> None:
    """list: RETRYING, attempts, last error and next attempt time."""
    dice.value = 0.5
    vendor.script(UNAVAILABLE)
    submit(pq)
    (row,) = pq.list()
    assert row.status == Status.RETRYING
    assert row.attempts == 1
    assert row.last_error == "http 503: unavailable"
    assert row.next_attempt_at == clock.now + timedelta(seconds=0.25)


def test_retry_after_is_honored_as_a_floor(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock, dice: Dice
) -> None:
    """A 429 with Retry-After 7 s is not retried before 7 s, even with a tiny jitter."""
    dice.value = 0.1
    vendor.script(Transient("rate_limited", "slow down", status=429, retry_after=7.0))
    start = clock.now
    submit(pq)
    assert pq.parts.log.intent(RID).next_attempt_at == start + timedelta(seconds=7)
    clock.advance(6.9)
    worker(pq).attempt(RID)
    assert len(vendor.calls) == 1
    clock.advance(0.1)
    worker(pq).attempt(RID)
    assert len(vendor.calls) == 2
    assert pq.receipt(RID).status == "SUBMITTED"


def test_an_attempt_is_not_made_before_it_is_due(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock, dice: Dice
) -> None:
    """Calling the worker early does nothing: no claim, no vendor call."""
    dice.value = 0.9
    vendor.script(UNAVAILABLE)
    submit(pq)
    size = log_size(pq)
    clock.advance(0.1)
    worker(pq).attempt(RID)
    assert len(vendor.calls) == 1
    assert log_size(pq) == size


# -- ambiguous attempts and reconciliation --------------------------------------------------


def test_an_ambiguous_failure_is_looked_up_and_the_found_job_used(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """A 500 after the vendor created the job: the next attempt finds it and buys nothing."""
    vendor.script(CreatedThenLost(SERVER_ERROR))
    assert submit(pq).status == "RETRYING"
    assert last_event(pq)["fields"]["ambiguous"] is True
    at_next_attempt(pq, clock)
    worker(pq).attempt(RID)
    assert [c.kind for c in vendor.calls] == ["create", "find"]
    receipt = pq.receipt(RID)
    assert receipt.status == "SUBMITTED"
    assert receipt.job_id == "job-1"
    assert last_event(pq)["fields"]["reconciled"] == "lookup"
    assert len(vendor.jobs_for(RID)) == 1


def test_an_ambiguous_failure_with_no_job_found_is_sent_again(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """The lookup finds nothing: safe to create again, under the same key."""
    vendor.script(SERVER_ERROR)
    submit(pq)
    at_next_attempt(pq, clock)
    worker(pq).attempt(RID)
    assert [c.kind for c in vendor.calls] == ["create", "find", "create"]
    assert {c.key for c in vendor.calls} == {RID}
    assert pq.receipt(RID).status == "SUBMITTED"
    assert len(vendor.jobs_for(RID)) == 1


def test_a_failed_lookup_retries_later_without_buying(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """If the lookup itself fails, no create is sent: the attempt is retried."""
    vendor.script(CreatedThenLost(SERVER_ERROR))
    vendor.lookups.append(Transient("timeout", "read timeout", ambiguous=False))
    submit(pq)
    at_next_attempt(pq, clock)
    worker(pq).attempt(RID)
    assert [c.kind for c in vendor.calls] == ["create", "find"]
    assert pq.receipt(RID).status == "RETRYING"
    at_next_attempt(pq, clock)
    worker(pq).attempt(RID)
    assert [c.kind for c in vendor.calls] == ["create", "find", "find"]
    assert pq.receipt(RID).job_id == "job-1"


def test_without_lookup_the_create_is_resent_under_the_same_key_and_the_trail_says_so(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """LookupUnsupported: resend with the same Idempotency-Key; the trail records no-lookup."""
    vendor.lookup_supported = False
    vendor.script(CreatedThenLost(SERVER_ERROR))
    submit(pq)
    at_next_attempt(pq, clock)
    worker(pq).attempt(RID)
    creates = vendor.calls_of("create")
    assert [c.kind for c in vendor.calls] == ["create", "find", "create"]
    assert creates[0].order == creates[1].order
    submitted = last_event(pq)
    assert submitted["type"] == "Submitted"
    assert submitted["fields"]["reconciled"].startswith("no-lookup")
    assert submitted["fields"]["replayed"] is True
    assert pq.receipt(RID).job_id == "job-1"
    assert len(vendor.jobs_for(RID)) == 1


def test_an_idempotent_replay_is_recorded_as_such(pq: ProofQueue, vendor: FakeVendor) -> None:
    """Accepted(replayed=True) is noted in the Submitted event."""
    vendor.jobs["job-7"] = Job("job-7", "REQUEST", client_request_id=RID)
    submit(pq)
    fields = last_event(pq)["fields"]
    assert fields["job_id"] == "job-7"
    assert fields["replayed"] is True
    assert fields["reconciled"] == "idempotency-replay"


# -- permanent failures and the budget ------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_a_permanent_refusal_fails_the_intent_at_once(
    pq: ProofQueue, vendor: FakeVendor, status: int
) -> None:
    """4xx: FAILED after one attempt, reason permanent, status code recorded."""
    vendor.script(Permanent(status, "unknown offering"))
    receipt = submit(pq)
    assert receipt.status == "FAILED"
    assert receipt.attempts == 1
    failed = last_event(pq)["fields"]
    assert failed["reason"] == "permanent"
    assert failed["status_code"] == status
    assert "unknown offering" in failed["detail"]
    assert len(vendor.calls) == 1


def test_the_attempt_budget_runs_out_and_fails_the_intent(
    vendor: FakeVendor, clock: Clock, dice: Dice
) -> None:
    """With 3 attempts allowed, the third transient failure fails the intent (no lookup)."""
    settings = Settings(store=":memory:", retry=RetryPolicy(max_attempts=3))
    vendor.script(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE)
    with make(vendor, clock, dice, settings) as pq:
        submit(pq)
        for _ in range(5):
            if pq.receipt(RID).status != "RETRYING":
                break
            at_next_attempt(pq, clock)
            worker(pq).attempt(RID)
        receipt = pq.receipt(RID)
        assert receipt.status == "FAILED"
        assert receipt.attempts == 3
        fields = last_event(pq)["fields"]
        assert fields["reason"] == "budget"
        assert "after 3 attempts" in fields["detail"]
        assert "503" in fields["detail"]
        assert [c.kind for c in vendor.calls] == ["create"] * 3


def test_budget_exhaustion_after_an_ambiguous_attempt_looks_up_and_uses_the_job(
    vendor: FakeVendor, clock: Clock, dice: Dice
) -> None:
    """Out of attempts, but an attempt may have bought it: look once more, and find it."""
    settings = Settings(store=":memory:", retry=RetryPolicy(max_attempts=2))
    vendor.script(SERVER_ERROR, CreatedThenLost(SERVER_ERROR))
    with make(vendor, clock, dice, settings) as pq:
        submit(pq)
        at_next_attempt(pq, clock)
        worker(pq).attempt(RID)
        assert [c.kind for c in vendor.calls] == ["create", "find", "create", "find"]
        receipt = pq.receipt(RID)
        assert receipt.status == "SUBMITTED"
        assert receipt.job_id == "job-1"
        assert last_event(pq)["fields"]["reconciled"] == "lookup"


def test_budget_exhaustion_after_an_ambiguous_attempt_fails_when_nothing_is_found(
    vendor: FakeVendor, clock: Clock, dice: Dice
) -> None:
    """The last look finds no job: now it is safe to fail the intent."""
    settings = Settings(store=":memory:", retry=RetryPolicy(max_attempts=2))
    vendor.script(SERVER_ERROR, SERVER_ERROR)
    with make(vendor, clock, dice, settings) as pq:
        submit(pq)
        at_next_attempt(pq, clock)
        worker(pq).attempt(RID)
        assert [c.kind for c in vendor.calls] == ["create", "find", "create", "find"]
        assert pq.receipt(RID).status == "FAILED"
        assert last_event(pq)["fields"]["reason"] == "budget"


def test_a_retry_that_would_land_past_the_deadline_fails_the_intent(
    vendor: FakeVendor, clock: Clock, dice: Dice
) -> None:
    """Budget of 60 s and a Retry-After of 120 s: no retry can happen in time."""
    settings = Settings(store=":memory:", retry=RetryPolicy(budget_s=60))
    vendor.script(Transient("rate_limited", "later", status=429, retry_after=120.0))
    with make(vendor, clock, dice, settings) as pq:
        receipt = submit(pq)
        assert receipt.status == "FAILED"
        assert last_event(pq)["fields"]["reason"] == "budget"


def test_an_intent_due_after_its_deadline_fails_without_a_call(
    vendor: FakeVendor, clock: Clock, dice: Dice
) -> None:
    """Due, but the deadline passed (say, the worker was down): fail, do not call."""
    settings = Settings(store=":memory:", retry=RetryPolicy(budget_s=60))
    vendor.script(UNAVAILABLE)
    with make(vendor, clock, dice, settings) as pq:
        submit(pq)
        clock.advance(61)
        worker(pq).attempt(RID)
        assert pq.receipt(RID).status == "FAILED"
        assert "no attempts or time left" in last_event(pq)["fields"]["detail"]
        assert len(vendor.calls) == 1


# -- idempotency ----------------------------------------------------------------------------


def test_the_same_request_again_writes_nothing_and_calls_nobody(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """Same request_id, actor, target and params: the same receipt, nothing new in the log."""
    first = submit(pq)
    size = log_size(pq)
    calls = list(vendor.calls)
    second = submit(pq, params={"colors": ["red", "blue"], "size": 3})
    assert second == first
    assert log_size(pq) == size
    assert vendor.calls == calls


@pytest.mark.parametrize(
    "change",
    [{"params": {"size": 4}}, {"actor": "agent-8"}, {"target": "0xProvider/banner"}],
    ids=["params", "actor", "target"],
)
def test_the_same_request_id_with_anything_else_changed_is_a_conflict(
    pq: ProofQueue, vendor: FakeVendor, change: dict[str, Any]
) -> None:
    """An idempotency key names one intent forever: other content is refused, nothing written."""
    submit(pq)
    size = log_size(pq)
    with pytest.raises(IdempotencyConflict, match="use a new request_id"):
        submit(pq, **change)
    assert log_size(pq) == size
    assert len(vendor.calls) == 1


def test_unknown_request_ids_are_reported_as_not_found(pq: ProofQueue) -> None:
    """receipt, show, retry and cancel of an unknown request_id raise IntentNotFound."""
    for read in (pq.receipt, pq.show):
        with pytest.raises(IntentNotFound):
            read("nope")
    with pytest.raises(IntentNotFound):
        pq.retry("nope", operator="bob")
    with pytest.raises(IntentNotFound):
        pq.cancel("nope", reason="x", operator="bob")


# -- secrets --------------------------------------------------------------------------------

SECRET = "hunter2-super-secret"
TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"


def test_params_with_a_secret_and_no_cipher_key_are_refused_and_nothing_is_written(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """SecretNeedsKey names the path and how to make a key; no intent, no vendor call."""
    with pytest.raises(SecretNeedsKey, match="proofqueue key") as caught:
        submit(pq, params={"api_key": SECRET, "size": 3})
    assert caught.value.paths == ["params.api_key"]
    assert SECRET not in str(caught.value)
    assert log_size(pq) == 0
    assert vendor.calls == []
    with pytest.raises(IntentNotFound):
        pq.receipt(RID)


def test_a_secret_never_appears_in_show_receipt_list_or_health(
    vendor: FakeVendor, clock: Clock, dice: Dice
) -> None:
    """Sealed at rest, sanitized when shown, even when the vendor echoes it in an error."""
    settings = Settings(store=":memory:", cipher_key=SecretStr(new_key()))
    params = {"api_key": SECRET, "note": f"auth with {TOKEN}", "size": 3}
    vendor.script(
        Transient("http", f"bad request body api_key={SECRET}", status=503),
        Permanent(422, f"rejected {SECRET} and {TOKEN}"),
    )
    with make(vendor, clock, dice, settings) as pq:
        submit(pq, params=params)
        at_next_attempt(pq, clock)
        worker(pq).attempt(RID)
        assert pq.receipt(RID).status == "FAILED"
        # The vendor was sent the real params, opened from the sealed copy.
        orders = [c.order for c in vendor.calls_of("create")]
        assert all(o is not None and o.params == params for o in orders)
        shown = json.dumps(
            [
                pq.show(RID).model_dump(mode="json"),
                pq.receipt(RID).model_dump(mode="json"),
                [row.model_dump(mode="json") for row in pq.list()],
                pq.health().model_dump(mode="json"),
            ]
        )
        for secret in (SECRET, TOKEN):
            assert secret not in shown
        queued = events(pq)[0]["fields"]
        assert queued["params_sealed"] == "[sealed]"
        assert queued["params_public"]["api_key"] == "[REDACTED]"
        assert "params_plain" not in queued


# -- the breaker's gate ---------------------------------------------------------------------


def trip(pq: ProofQueue, vendor: FakeVendor) -> None:
    """Ten intents, each failing transiently once: the breaker opens."""
    vendor.script(*[UNAVAILABLE] * 10)
    for n in range(10):
        submit(pq, f"fail-{n}")


def test_ten_transient_failures_trip_the_breaker_and_health_says_why(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """The 10th failure in the window opens the breaker; health shows the transition."""
    trip(pq, vendor)
    health = pq.health()
    assert health.state == BreakerState.DEGRADED
    assert health.backlog == 10
    (move,) = health.transitions
    assert (move.from_, move.to) == ("OK", "DEGRADED")
    assert move.reason == "failure ratio 1.00 >= 0.50 over 10 calls in 30s"


def test_while_degraded_submit_answers_queued_and_the_vendor_sees_no_call(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """Queue-first: the intent is durable, QUEUED, and nothing is sent, not even by a worker."""
    trip(pq, vendor)
    calls = len(vendor.calls)
    receipt = submit(pq, "order-during-outage")
    assert receipt.status == "QUEUED"
    assert receipt.attempts == 0
    clock.advance(5)
    worker(pq).attempt("order-during-outage")
    worker(pq).attempt("fail-0")
    assert len(vendor.calls) == calls
    assert pq.receipt("order-during-outage").attempts == 0


def test_permanent_refusals_do_not_count_against_the_breaker(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """Ten 404s leave the breaker OK: the eleventh submit is still sent."""
    vendor.script(*[Permanent(404, "unknown offering")] * 10)
    for n in range(10):
        submit(pq, f"bad-{n}")
    assert submit(pq, "good").status == "SUBMITTED"
    assert len(vendor.calls) == 11
    assert pq.health().state == "OK"


def test_after_the_open_period_the_worker_probes_and_good_probes_reopen_the_gate(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """15 s later the worker moves to RECOVERING (a submit does not: it may be gone before
    probing); submit still queues; two good probes close the breaker."""
    trip(pq, vendor)
    clock.advance(15)
    assert submit(pq, "queued-1").status == "QUEUED"
    assert pq.health().state == "DEGRADED"
    pq.parts.guard.sync()  # what the worker's loop does each round
    assert pq.health().state == "RECOVERING"
    calls = len(vendor.calls)
    worker(pq).attempt("fail-0")
    worker(pq).attempt("fail-1")
    assert len(vendor.calls) == calls + 2
    assert pq.health().state == "OK"
    assert [t.to for t in pq.health().transitions] == ["DEGRADED", "RECOVERING", "OK"]
    assert submit(pq, "after-recovery").status == "SUBMITTED"


def test_recovering_lets_only_three_probes_through(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """With probes whose answers never come back in time, a fourth call is held back."""
    trip(pq, vendor)
    clock.advance(15)
    pq.parts.guard.sync()
    admitted = [pq.parts.guard.admit() for _ in range(5)]
    assert admitted == [True, True, True, False, False]


# -- operator actions -----------------------------------------------------------------------


def test_an_operator_retry_is_recorded_with_the_operators_name(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """retry: due now with the budget re-armed, and the trail names who asked."""
    vendor.script(Transient("rate_limited", "later", status=429, retry_after=600.0))
    submit(pq)
    receipt = pq.retry(RID, operator="bob")
    assert receipt.status == "RETRYING"
    event = last_event(pq)
    assert event["type"] == "RetryScheduled"
    assert event["fields"]["operator"] == "bob"
    assert "bob" in event["fields"]["detail"]
    assert pq.parts.log.intent(RID).is_due(clock.now)
    worker(pq).attempt(RID)
    assert pq.receipt(RID).status == "SUBMITTED"


def test_an_operator_cancel_is_recorded_with_the_operators_name_and_reason(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """cancel: FAILED, reason cancelled, the operator's words and name in the trail."""
    vendor.script(UNAVAILABLE)
    submit(pq)
    receipt = pq.cancel(RID, reason="  customer withdrew  ", operator="alice")
    assert receipt.status == "FAILED"
    assert receipt.is_final
    fields = last_event(pq)["fields"]
    assert (fields["reason"], fields["detail"], fields["operator"]) == (
        "cancelled",
        "customer withdrew",
        "alice",
    )
    assert pq.list()[0].last_error == "cancelled: customer withdrew"


def test_cancel_of_a_submitted_intent_is_refused_and_writes_nothing(
    pq: ProofQueue,
) -> None:
    """The vendor already holds a job for it: cancel is refused, the trail unchanged."""
    submit(pq)
    size = log_size(pq)
    with pytest.raises(IllegalTransition, match="the vendor already holds a job"):
        pq.cancel(RID, reason="too late", operator="alice")
    assert log_size(pq) == size


def test_retry_of_a_settled_intent_is_refused(pq: ProofQueue, vendor: FakeVendor) -> None:
    """Terminal intents accept no operator action."""
    submit(pq)
    vendor.set_phase("job-1", "COMPLETED", deliverable_id="d")
    worker(pq).follow(RID, "job-1")
    with pytest.raises(IllegalTransition, match="SETTLED"):
        pq.retry(RID, operator="bob")


# -- the trail ------------------------------------------------------------------------------


def test_the_whole_trail_verifies_and_the_receipt_carries_its_head(
    pq: ProofQueue, vendor: FakeVendor, clock: Clock
) -> None:
    """After retries, a lookup and a settlement, verify finds nothing and the proof matches."""
    vendor.script(UNAVAILABLE, CreatedThenLost(SERVER_ERROR))
    submit(pq)
    for _ in range(2):
        at_next_attempt(pq, clock)
        worker(pq).attempt(RID)
    vendor.set_phase("job-1", "COMPLETED", deliverable_id="d-1")
    worker(pq).follow(RID, "job-1")
    report = pq.verify()
    assert report.ok
    assert report.intents == 1
    trail = pq.show(RID)
    assert trail.status == "SETTLED"
    assert [e.seq for e in trail.events] == list(range(1, len(trail.events) + 1))
    assert pq.receipt(RID).proof == trail.events[-1].hash


# freezegun swaps every module attribute that *is* datetime for its FakeDatetime, which
# eventsourcing's transcoder refuses to store; a tuple keeps the real class out of its reach.
_REAL_DATETIME = (datetime,)


def frozen_clock() -> datetime:
    """The frozen time (time.time() under freezegun) as a real datetime."""
    return _REAL_DATETIME[0].fromtimestamp(time.time(), UTC)


def test_time_can_be_frozen_and_moved_with_freezegun(vendor: FakeVendor, dice: Dice) -> None:
    """Under freezegun, a Retry-After of 5 s waits exactly 5 s of frozen time."""
    vendor.script(Transient("rate_limited", "later", status=429, retry_after=5.0))
    with freeze_time("2026-03-01T12:00:00Z") as frozen:
        settings = Settings(store=":memory:")
        with ProofQueue(settings, vendor=vendor, clock=frozen_clock, rand=dice) as pq:
            # Recorded, then attempted in this thread: freezegun freezes this thread's
            # clocks, and a submit's first attempt runs in a thread of its own.
            pq.record(RID, actor="agent-7", target=TARGET, params=PARAMS)
            worker(pq).attempt(RID)
            expected = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
            assert pq.parts.log.intent(RID).next_attempt_at == expected
            frozen.tick(4.5)
            worker(pq).attempt(RID)
            assert len(vendor.calls) == 1
            frozen.tick(0.5)
            worker(pq).attempt(RID)
            assert pq.receipt(RID).status == "SUBMITTED"
            assert pq.receipt(RID).queued_at == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_the_lookup_result_is_what_the_fake_vendor_holds(vendor: FakeVendor) -> None:
    """The fake's lookup returns the jobs created for a request_id (a check of the fake)."""
    vendor.script(CreatedThenLost(SERVER_ERROR))
    outcome = vendor.create_job(JobOrder(RID, "p", "o", {}))
    assert outcome == SERVER_ERROR
    assert vendor.find_jobs(RID) == Found((Job("job-1", "REQUEST", client_request_id=RID),))
    assert vendor.get_job("job-404") == Permanent(404, "no job job-404")
