"""Who brings the views up to date: the leading worker in a thread of its own, not its
rounds; a worker that does not lead only when the views stood still while the log grew."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

import pytest

from proofqueue import ProofQueue, Settings
from proofqueue.domain.heartbeat import Heartbeat
from proofqueue.domain.work import Work
from proofqueue.process.worker import Worker
from proofqueue.testing.fakes import Clock, FakeVendor


class _Views:
    """Views with no work in them that note which thread catches up, and a log whose
    head and position are set by the test."""

    def __init__(self, members: list[str], head: int = 0) -> None:
        self.members = members
        self.head = head
        self.position = 0
        self.catch_ups: list[str] = []

    def catch_up(self) -> int:
        self.catch_ups.append(threading.current_thread().name)
        moved, self.position = self.head - self.position, self.head
        return moved

    def progress(self) -> tuple[int, int]:
        return self.position, self.head

    def work(self, now: datetime, due_limit: int, slots: Sequence[str] | None = None) -> Work:
        return Work(submitted=[], claimed=[], due=[])

    def beat(
        self,
        beat: Heartbeat,
        lease_s: float,
        reads: Mapping[str, float | None],
        blocked: Mapping[str, tuple[str, float]],
    ) -> list[str]:
        return self.members


@pytest.fixture
def pq() -> Iterator[ProofQueue]:
    with ProofQueue(Settings(store=":memory:"), vendor=FakeVendor(), clock=Clock()) as queue:
        yield queue


def _run(pq: ProofQueue, views: _Views, name: str, seconds: float) -> None:
    assert pq.parts.manager is not None
    worker = Worker(
        manager=pq.parts.manager,
        views=views,
        guard=pq.parts.guard,
        clock=pq.parts.clock,
        concurrency=1,
        idle_s=0.01,
        name=name,
        lease_s=30,
    )
    stop = threading.Event()
    runner = threading.Thread(target=worker.run, args=(stop,))
    runner.start()
    time.sleep(seconds)
    stop.set()
    runner.join(10)
    assert not runner.is_alive()


def test_the_leading_worker_catches_up_in_a_thread_of_its_own_not_in_its_rounds(
    pq: ProofQueue,
) -> None:
    views = _Views(members=["w1"])
    _run(pq, views, "w1", 0.5)
    from_rounds = [name for name in views.catch_ups if name != "pq-views"]
    assert views.catch_ups.count("pq-views") >= 3  # every FOLLOW_S when nothing is new
    assert len(from_rounds) <= 1  # at most the first round, before the thread's first


def test_a_worker_that_does_not_lead_catches_up_only_when_the_views_stand_still(
    pq: ProofQueue,
) -> None:
    views = _Views(members=["w0", "w1"])  # w0 leads
    _run(pq, views, "w1", 0.3)
    # Once at most, before its first heartbeat told it that w0 leads; then never: the
    # views were current.
    assert len(views.catch_ups) <= 1

    stuck = _Views(members=["w0", "w1"], head=5)  # the log grew; nobody moves the views
    stuck.position = 0
    stuck.catch_up = lambda: 0  # type: ignore[method-assign]  # nothing moves them yet
    moved: list[str] = []

    def late_catch_up() -> int:  # from the second look on, catching up moves them
        moved.append(threading.current_thread().name)
        stuck.position = stuck.head
        return stuck.head

    timer = threading.Timer(0.2, lambda: setattr(stuck, "catch_up", late_catch_up))
    timer.start()
    _run(pq, stuck, "w1", 2.5)  # CATCH_UP_S is 1 s: seen standing still, then caught up
    timer.cancel()
    assert moved, "a worker that does not lead never caught up views that stood still"
    assert "pq-views" not in moved
    assert stuck.position == stuck.head
