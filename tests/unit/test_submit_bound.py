"""``wait`` bounds how long ``submit`` blocks, however slow the vendor: a first attempt that
takes longer goes on in the background and is recorded when it ends."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from proofqueue import CreateOutcome, JobOrder, ProofQueue, Settings, Status
from proofqueue.testing import FakeVendor


@dataclass
class SlowVendor(FakeVendor):
    """Answers creates only once ``release`` is set (a vendor that hangs)."""

    release: threading.Event = field(default_factory=threading.Event)

    def create_job(self, order: JobOrder) -> CreateOutcome:
        self.release.wait(10)
        return super().create_job(order)


def test_a_hanging_vendor_does_not_hold_a_submit_past_its_bound() -> None:
    """submit(wait=0) answers QUEUED within about a second while the create hangs; once the
    vendor answers, the background attempt records the job."""
    vendor = SlowVendor()
    with ProofQueue(Settings(store=":memory:"), vendor=vendor) as pq:
        started = time.monotonic()
        receipt = pq.submit("slow-1", actor="a", target="0xP/logo", wait=0)
        took = time.monotonic() - started
        assert took < 2.0
        assert receipt.status == Status.QUEUED
        vendor.release.set()
        deadline = time.monotonic() + 5
        while pq.receipt("slow-1").status != Status.SUBMITTED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pq.receipt("slow-1").status == Status.SUBMITTED
        assert len(vendor.calls_of("create")) == 1


def test_a_submit_with_a_longer_wait_still_answers_by_its_bound() -> None:
    """wait=1.5 against a hanging vendor: the answer comes after about 1.5 s, not later."""
    vendor = SlowVendor()
    with ProofQueue(Settings(store=":memory:"), vendor=vendor) as pq:
        started = time.monotonic()
        pq.submit("slow-2", actor="a", target="0xP/logo", wait=1.5)
        took = time.monotonic() - started
        vendor.release.set()
    assert 1.4 <= took < 3.0
