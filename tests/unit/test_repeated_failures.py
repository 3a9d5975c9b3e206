"""Every repeated failure backs off and is recorded once with its reason: a vendor answer
that neither settles nor fails a job (COMPLETED without a deliverable, an unknown phase)
lands once in the trail and in ``waiting_for`` while reads slow down; a worker round that
keeps failing (disk full) and work on an intent that keeps raising back off and log once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from proofqueue import ProofQueue, Settings
from proofqueue.domain.backoff import RetryPolicy
from proofqueue.ports import Job
from proofqueue.process.complaints import Complaints
from proofqueue.process.decisions import PollAgain, Timing, decide_after_read
from proofqueue.process.worker import Worker
from proofqueue.testing.fakes import Clock, FakeVendor

RID = "order-1"
TIMING = Timing(retry=RetryPolicy(), poll_s=0.5, poll_cap_s=5.0, unclear_cap_s=300.0)


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture
def pq(vendor: FakeVendor) -> Iterator[ProofQueue]:
    with ProofQueue(Settings(store=":memory:"), vendor=vendor, clock=Clock()) as queue:
        yield queue


def follow(pq: ProofQueue, times: int) -> None:
    assert pq.parts.manager is not None
    for _ in range(times):
        pq.parts.manager.follow(RID, "job-1")


def types(pq: ProofQueue) -> list[str]:
    return [event.type for event in pq.show(RID).events]


@pytest.mark.parametrize(
    ("job", "why"),
    [
        (Job("job-1", "COMPLETED", None), "COMPLETED without a deliverable"),
        (Job("job-1", "PAUSED", None), "unknown phase 'PAUSED'"),
    ],
)
def test_an_unclear_job_answer_is_read_less_and_less_often_up_to_a_cap(job: Job, why: str) -> None:
    """The read interval doubles from the poll cap up to the unclear cap, with the reason."""
    intervals, interval = [], 0.5
    for _ in range(10):
        decided = decide_after_read(job, "job-1", interval, 0, TIMING)
        assert isinstance(decided, PollAgain)
        assert decided.unclear is not None
        assert why in decided.unclear
        intervals.append(interval := decided.interval_s)
    assert intervals[:3] == [10.0, 20.0, 40.0]
    assert intervals[-1] == 300.0


def test_a_job_under_way_is_not_unclear() -> None:
    decided = decide_after_read(Job("job-1", "EVALUATION"), "job-1", 0.5, 0, TIMING)
    assert decided == PollAgain(1.0, 0)


@pytest.mark.parametrize(
    ("phase", "shown"),
    [("COMPLETED", "COMPLETED without a deliverable"), ("ON_HOLD", "unknown phase 'ON_HOLD'")],
)
def test_a_completed_job_without_deliverable_or_an_unknown_phase_is_recorded_once(
    pq: ProofQueue, vendor: FakeVendor, phase: str, shown: str
) -> None:
    """Read five times, the answer is recorded once (JobUnresolved), shown in waiting_for
    and the list; a deliverable later settles the intent as usual."""
    pq.submit(RID, actor="agent-7", target="0xProvider/logo", params={"size": 3})
    vendor.set_phase("job-1", phase)
    follow(pq, 5)
    assert types(pq) == ["Queued", "AttemptStarted", "Submitted", "JobUnresolved"]
    trail = pq.show(RID)
    assert shown in str(trail.events[-1].fields["detail"])
    assert trail.waiting_for is not None
    assert trail.waiting_for.startswith("job job-1 at the vendor, next read at")
    assert shown in trail.waiting_for
    assert pq.verify([RID]).ok
    assert pq.replay(check=True).differences == []

    vendor.set_phase("job-1", "COMPLETED", deliverable_id="deliv-1")
    follow(pq, 1)
    assert str(pq.receipt(RID).status) == "SETTLED"


def test_another_unclear_answer_is_recorded_again_but_each_only_once(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    pq.submit(RID, actor="agent-7", target="0xProvider/logo", params={"size": 3})
    for phase in ("COMPLETED", "COMPLETED", "PAUSED", "PAUSED", "COMPLETED"):
        vendor.set_phase("job-1", phase)
        follow(pq, 1)
    assert types(pq).count("JobUnresolved") == 3


class _Stop(threading.Event):
    """A stop event whose waits are recorded, not slept; set after ``rounds`` waits."""

    def __init__(self, rounds: int) -> None:
        super().__init__()
        self.rounds = rounds
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        if len(self.waits) >= self.rounds:
            self.set()
        return self.is_set()


class _DiskFull:
    """Views whose store is full: every catch-up fails."""

    def catch_up(self) -> int:
        raise OSError("database or disk is full")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"not reached: {name}")


def test_a_worker_round_that_keeps_failing_backs_off_and_logs_its_reason_once(
    pq: ProofQueue, caplog: pytest.LogCaptureFixture
) -> None:
    """Disk full: the waits double up to the cap, one error line names the reason."""
    assert pq.parts.manager is not None
    worker = Worker(
        manager=pq.parts.manager,
        views=_DiskFull(),
        guard=pq.parts.guard,
        clock=pq.parts.clock,
        concurrency=1,
        idle_s=0.01,
        name="w1",
        lease_s=30,
    )
    stop = _Stop(rounds=7)
    with caplog.at_level(logging.INFO, logger="proofqueue"):
        worker._run(None, 1, stop)  # type: ignore[arg-type]  # (no call is reached)
    assert stop.waits == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "database or disk is full" in errors[0].getMessage()


def test_work_on_an_intent_that_keeps_raising_backs_off_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    complaints = Complaints(logging.getLogger("proofqueue.test"))
    with caplog.at_level(logging.INFO, logger="proofqueue"):
        delays = [complaints.failed("r1", "work on r1", ValueError("bad job id")) for _ in range(5)]
        assert complaints.waiting("r1")
        complaints.ok("r1", "work on r1")
        assert not complaints.waiting("r1")
    assert delays == [1.0, 2.0, 4.0, 8.0, 15.0]
    assert [r.levelname for r in caplog.records] == ["ERROR", "INFO"]


def test_a_finished_call_that_raised_backs_that_intent_off(pq: ProofQueue) -> None:
    """The worker skips an intent whose last call raised until its backoff ends."""
    assert pq.parts.manager is not None
    worker = Worker(
        manager=pq.parts.manager,
        views=pq.parts.views,
        guard=pq.parts.guard,
        clock=pq.parts.clock,
        concurrency=1,
        idle_s=0.01,
        name="w1",
        lease_s=30,
    )
    failed: Future[None] = Future()
    failed.set_exception(RuntimeError("store write failed"))
    worker._done(RID, failed)
    assert worker._complaints.waiting(RID)
