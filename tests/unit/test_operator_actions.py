"""Operator actions never lose a purchase: cancel looks the job up when an attempt may have
reached the vendor; retry reopens a FAILED intent only when the vendor holds no job for it;
bulk actions act on exactly the filtered set, each intent with its own event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from proofqueue import (
    IllegalTransition,
    Permanent,
    ProofQueue,
    Settings,
    Status,
    Transient,
)
from proofqueue.testing import Clock, CreatedThenLost, FakeVendor

TARGET = "0xProvider/logo"
LOST = CreatedThenLost(Transient("http", "internal error", status=500, ambiguous=True))


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pq(vendor: FakeVendor, clock: Clock) -> Iterator[ProofQueue]:
    settings = Settings(store=":memory:")
    with ProofQueue(settings, vendor=vendor, clock=clock, rand=lambda: 0.5) as queue:
        yield queue


def types(pq: ProofQueue, request_id: str) -> list[str]:
    return [event.type for event in pq.show(request_id).events]


def test_cancel_after_an_ambiguous_create_records_the_job_the_vendor_holds(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """A 500 after the job was made: cancel looks it up, records the purchase, refuses."""
    vendor.script(LOST)
    pq.submit("r1", actor="a", target=TARGET)
    with pytest.raises(IllegalTransition, match="holds job job-1"):
        pq.cancel("r1", reason="not needed", operator="ops")
    assert pq.receipt("r1").status == Status.SUBMITTED
    assert pq.receipt("r1").job_id == "job-1"
    assert [c.kind for c in vendor.calls] == ["create", "find"]


def test_cancel_after_an_ambiguous_create_cancels_when_the_lookup_finds_none(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """A 500 before anything was made: the lookup finds no job, and the cancel goes on."""
    vendor.script(Transient("http", "unavailable", status=500, ambiguous=True))
    pq.submit("r1", actor="a", target=TARGET)
    receipt = pq.cancel("r1", reason="not needed", operator="ops")
    assert receipt.status == Status.FAILED
    assert vendor.calls_of("find")


def test_cancel_is_refused_when_the_job_cannot_be_looked_up(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """No lookup at the vendor: cancelling could lose a purchase, so nothing is written."""
    vendor.lookup_supported = False
    vendor.script(LOST)
    pq.submit("r1", actor="a", target=TARGET)
    before = types(pq, "r1")
    with pytest.raises(IllegalTransition, match="offers no lookup"):
        pq.cancel("r1", reason="x", operator="ops")
    assert types(pq, "r1") == before


def test_retry_reopens_an_intent_refused_before_any_job_was_made(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """A 401 (a wrong api key) failed it; once fixed, retry reopens it with a fresh budget
    and it is bought."""
    vendor.script(Permanent(401, "bad key"))
    pq.submit("r1", actor="a", target=TARGET)
    assert pq.receipt("r1").status == Status.FAILED
    reopened = pq.retry("r1", operator="ops")
    assert reopened.status == Status.QUEUED
    assert types(pq, "r1")[-1] == "Reopened"
    assert pq.show("r1").events[-1].fields["checked"] == "no create reached the vendor"
    assert [c.kind for c in vendor.calls] == ["create"]  # no lookup needed


def test_retry_of_a_spent_ambiguous_intent_records_the_job_a_lookup_finds(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """Out of budget after an ambiguous create: retry looks up and records the job found
    instead of buying again."""
    vendor.script(LOST)
    pq.submit("r1", actor="a", target=TARGET)
    intent = pq.parts.log.intent("r1")
    intent.fail(reason="budget", detail="spent", now=intent.queued_at)
    pq.parts.log.save(intent)
    receipt = pq.retry("r1", operator="ops")
    assert receipt.status == Status.SUBMITTED
    assert receipt.job_id == "job-1"
    assert types(pq, "r1")[-2:] == ["Reopened", "Submitted"]


def test_retry_of_an_intent_whose_job_existed_is_refused(
    pq: ProofQueue, vendor: FakeVendor
) -> None:
    """A job the vendor rejected is not bought again by a reopen."""
    pq.submit("r1", actor="a", target=TARGET)
    vendor.set_phase("job-1", "REJECTED")
    assert pq.parts.manager is not None
    pq.parts.manager.follow("r1", "job-1")
    with pytest.raises(IllegalTransition, match="held job job-1"):
        pq.retry("r1", operator="ops")


def test_bulk_cancel_acts_on_exactly_the_filtered_set(pq: ProofQueue, vendor: FakeVendor) -> None:
    """``cancel_all`` with a status and a target cancels those and no other; a dry run
    only counts."""
    pq.hold_vendor(reason="batch", operator="ops")
    for n in range(5):
        pq.submit(f"x{n}", actor="a", target=TARGET)
    pq.submit("other", actor="a", target="0xOther/logo")
    dry = pq.cancel_all(reason="r", status=["QUEUED"], target=TARGET, dry_run=True)
    assert (dry.matched, dry.acted) == (5, [])
    assert pq.counts()["FAILED"] == 0
    report = pq.cancel_all(reason="r", status=["QUEUED"], target=TARGET, operator="ops")
    assert sorted(report.acted) == [f"x{n}" for n in range(5)]
    assert pq.receipt("other").status == Status.QUEUED
    assert all(types(pq, f"x{n}")[-1] == "Failed" for n in range(5))
