"""A worker round claims ahead of its pool (calls beyond ``concurrency`` wait in the pool's
queue, none sent once the vendor is closed while they wait), and a job read takes the
intent this worker saved instead of loading it again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from proofqueue import ProofQueue, Status
from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.intent import Intent
from proofqueue.ports import CreateOutcome, JobOrder
from proofqueue.process.decisions import ScheduleRetry, decide_not_sent
from proofqueue.process.manager import NOT_SENT, ProcessManager
from proofqueue.process.worker import AHEAD_MIN, Worker
from proofqueue.testing.fakes import FakeVendor
from tests.unit.held_queue import held_queue, worker_manager

IDS = [f"{hex_digit}-{n}" for n, hex_digit in enumerate("0123456789")]


@dataclass
class GatedVendor(FakeVendor):
    """Creates wait for ``gate``; counts how many run at once."""

    gate: threading.Event = field(default_factory=threading.Event)
    running: int = 0
    most: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create_job(self, order: JobOrder) -> CreateOutcome:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            assert self.gate.wait(10)
            return super().create_job(order)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def vendor() -> GatedVendor:
    return GatedVendor()


@pytest.fixture
def pq(vendor: GatedVendor) -> Iterator[ProofQueue]:
    with held_queue(vendor, IDS) as queue:
        yield queue


def _worker(pq: ProofQueue, manager: ProcessManager, width: int) -> Worker:
    return Worker(
        manager=manager,
        views=pq.parts.views,
        guard=pq.parts.guard,
        clock=pq.parts.clock,
        concurrency=width,
        idle_s=0.01,
        name="w-test",
        lease_s=30,
    )


def _claimed(pq: ProofQueue) -> list[str]:
    return [r for r in IDS if pq.parts.log.intent(r).claimed_by == "w-test"]


def test_a_round_claims_ahead_and_sends_none_of_them_once_the_vendor_is_held(
    pq: ProofQueue, vendor: GatedVendor
) -> None:
    manager = worker_manager(pq)
    worker = _worker(pq, manager, width=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert worker.step(pool, 2)
        claimed = _claimed(pq)
        assert len(claimed) == 2 + AHEAD_MIN  # two in the pool, the rest queued
        assert not worker.step(pool, 2)  # too few free for a round: nothing more claimed
        assert len(_claimed(pq)) == len(claimed)
        pq.hold_vendor(reason="maintenance", operator="test")  # while they wait
        vendor.gate.set()
    assert vendor.most == 2
    assert len(vendor.calls_of("create")) == 2  # the queued ones were not sent
    sent = {call.key for call in vendor.calls_of("create")}
    manager.flush_records()
    for request_id in set(claimed) - sent:  # due again, nothing at the vendor
        intent = pq.parts.log.intent(request_id)
        assert (intent.status, intent.claim_until) == (Status.RETRYING, None)
        assert NOT_SENT in (intent.last_error or "")
        # the unsent attempt is given back: as many real calls as before remain
        assert intent.max_attempts - intent.attempts == pq.settings.retry.max_attempts


def test_a_job_read_takes_the_intent_this_worker_saved_at_the_views_version(
    pq: ProofQueue, vendor: GatedVendor
) -> None:
    vendor.gate.set()
    manager = worker_manager(pq)
    [claimed] = manager.claim({IDS[0]: None})
    manager.call(claimed)
    assert manager.flush_records() == 1  # Submitted, saved
    saved = pq.parts.log.intent(IDS[0])
    assert saved.status == Status.SUBMITTED
    reads: list[Any] = []
    intents = manager.log.intents

    def counted(request_ids: Any) -> Any:
        reads.append(list(request_ids))
        return intents(request_ids)

    manager.log.intents = counted  # type: ignore[method-assign]
    found = manager.load_many([IDS[0]], {IDS[0]: saved.version})
    assert found[IDS[0]].version == saved.version
    assert reads == []  # not read from the log
    older = manager.load_many([IDS[0]], {IDS[0]: saved.version - 1})  # the views lag
    assert reads == [[IDS[0]]]
    assert older[IDS[0]].version == saved.version
    assert saved.job_id is not None
    vendor.set_phase(saved.job_id, "COMPLETED", "deliverable-1")
    manager.follow(IDS[0], saved.job_id, found[IDS[0]])
    assert manager.flush_records() == 1
    assert pq.parts.log.intent(IDS[0]).status == Status.SETTLED
    assert manager.recorder.known.finished(IDS[0], saved.version)  # no read again
    assert not manager.recorder.known.finished(IDS[1], 1)


def test_calls_wait_ahead_only_while_they_would_start_well_inside_their_lease(
    pq: ProofQueue,
) -> None:
    worker = _worker(pq, worker_manager(pq), width=2)
    margin = worker.lease_s - worker.manager.timing.call_s
    assert worker._ahead(2) == AHEAD_MIN  # no call seen yet
    worker._slowest = margin / 8  # four waves of the slowest calls fit in half the margin
    assert worker._ahead(2) == AHEAD_MIN == 8
    worker._slowest = margin / 4  # two waves: twice what the pool runs
    assert worker._ahead(2) == 4
    worker._slowest = margin / 2  # one wave: as many as the pool runs
    assert worker._ahead(2) == 2
    worker._slowest = margin  # calls this slow: none waits, a round per free slot
    assert worker._ahead(2) == 0


def test_an_unsent_last_attempt_does_not_fail_the_intent() -> None:
    """The budget counts claims; a claim whose call never left is given back, so an intent
    on its last attempt is due again, not FAILED for a call it never made."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    intent = Intent.queue(
        request_id="last-1", actor="agent-7", target="0xP/logo", params_public={},
        params_sealed=None, params_plain={}, params_digest="0" * 64, max_attempts=1,
        deadline=now + timedelta(days=1), now=now,
    )  # fmt: skip
    intent.start_attempt(worker="w", lease=timedelta(seconds=30), now=now)
    assert intent.attempts == intent.max_attempts  # its last attempt
    decided = decide_not_sent(NOT_SENT, now)
    assert isinstance(decided, ScheduleRetry)
    assert decided.unsent
    intent.schedule_retry(
        error=decided.error, status_code=None, detail=decided.detail, ambiguous=False,
        next_attempt_at=decided.next_attempt_at, now=now, unsent=decided.unsent,
    )  # fmt: skip
    assert (intent.status, intent.max_attempts, intent.next_attempt_at) == (
        Status.RETRYING, 2, now,
    )  # fmt: skip


def test_calls_claimed_ahead_while_ok_wait_out_a_recovering_breaker(
    pq: ProofQueue, vendor: GatedVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While RECOVERING only probes are sent: an attempt claimed ahead while the breaker was
    OK and still waiting when it left OK is not sent (due again, its attempt given back)."""
    manager = worker_manager(pq)
    worker = _worker(pq, manager, width=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert worker.step(pool, 2)
        claimed = _claimed(pq)
        assert len(claimed) == 2 + AHEAD_MIN
        monkeypatch.setattr(
            type(pq.parts.guard), "state", property(lambda _self: BreakerState.RECOVERING)
        )
        vendor.gate.set()
    assert len(vendor.calls_of("create")) == 2  # the two running when it left OK
    manager.flush_records()
    sent = {call.key for call in vendor.calls_of("create")}
    for request_id in set(claimed) - sent:
        intent = pq.parts.log.intent(request_id)
        assert (intent.status, intent.claim_until) == (Status.RETRYING, None)
        assert intent.max_attempts - intent.attempts == pq.settings.retry.max_attempts
