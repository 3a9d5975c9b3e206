"""An ``AsyncVendor`` behind the blocking port: its coroutines on a private loop thread,
each call bounded in time, never raising for a vendor fault."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from proofqueue import (
    Accepted,
    CreateOutcome,
    Found,
    Job,
    JobOrder,
    JobOutcome,
    LookupOutcome,
    ProofQueue,
    Settings,
    Status,
    Transient,
)
from proofqueue.adapters.async_vendor import AsyncVendorBridge, is_async_vendor
from proofqueue.testing import FakeVendor

ORDER = JobOrder("r-1", "0xP", "logo", {"n": 1})


class Shop:
    """An async vendor that records the thread each call ran on, hangs or raises on cue."""

    name = "shop"

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.hang = False
        self.boom = False
        self.cancelled = 0
        self.closed = False

    async def create_job(self, order: JobOrder) -> CreateOutcome:
        self.threads.append(threading.current_thread().name)
        if self.boom:
            raise ConnectionResetError("peer reset\nthe connection")
        if self.hang:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return Accepted(f"job-{order.request_id}")

    async def get_job(self, job_id: str) -> JobOutcome:
        if self.hang:
            await asyncio.sleep(60)
        return Job(job_id, "COMPLETED", deliverable_id="d-1")

    async def find_jobs(self, request_id: str) -> LookupOutcome:
        if self.boom:
            raise RuntimeError("sdk bug")
        return Found(())

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def shop() -> Shop:
    return Shop()


@pytest.fixture
def bridge(shop: Shop) -> Iterator[AsyncVendorBridge]:
    bridged = AsyncVendorBridge(shop, timeout_s=0.2)
    yield bridged
    bridged.close()


def test_an_async_vendor_is_told_from_a_blocking_one(shop: Shop) -> None:
    """``is_async_vendor`` looks at ``create_job``: a coroutine function or not."""
    assert is_async_vendor(shop)
    assert not is_async_vendor(FakeVendor())


def test_calls_run_on_one_private_loop_thread(shop: Shop, bridge: AsyncVendorBridge) -> None:
    """Each call answers the coroutine's outcome, run on the bridge's own thread."""
    assert bridge.create_job(ORDER) == Accepted("job-r-1")
    assert bridge.create_job(ORDER) == Accepted("job-r-1")
    assert bridge.find_jobs("r-1") == Found(())
    assert bridge.name == "shop"
    assert shop.threads == ["proofqueue-async-vendor"] * 2


def test_a_create_that_hangs_is_an_ambiguous_timeout_and_is_cancelled(
    shop: Shop, bridge: AsyncVendorBridge
) -> None:
    """Past ``timeout_s`` the create answers an ambiguous Transient timeout (the job may
    exist) and its coroutine is cancelled; a read that hangs is a plain timeout."""
    shop.hang = True
    outcome = bridge.create_job(ORDER)
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous) == ("timeout", True)
    assert "longer than 0.2s" in outcome.detail
    read = bridge.get_job("job-1")
    assert isinstance(read, Transient)
    assert not read.ambiguous
    for _ in range(50):
        if shop.cancelled:
            break
        threading.Event().wait(0.01)
    assert shop.cancelled == 1


def test_a_coroutine_that_raises_answers_a_transient_naming_the_exception(
    shop: Shop, bridge: AsyncVendorBridge
) -> None:
    """The port never raises for a vendor fault: an exception is a connection failure,
    ambiguous for a create (it may have been sent), not for a lookup."""
    shop.boom = True
    created = bridge.create_job(ORDER)
    assert created == Transient(
        "connection",
        "the vendor's create raised ConnectionResetError: peer reset the connection",
        ambiguous=True,
    )
    found = bridge.find_jobs("r-1")
    assert isinstance(found, Transient)
    assert not found.ambiguous
    assert "RuntimeError: sdk bug" in found.detail


def test_closing_closes_the_vendor_and_ends_the_loop_thread(shop: Shop) -> None:
    """``close`` awaits the vendor's ``aclose`` and stops the thread; a later call starts
    a fresh loop."""
    bridge = AsyncVendorBridge(shop, timeout_s=1.0)
    bridge.create_job(ORDER)
    threads = {t.name for t in threading.enumerate()}
    assert "proofqueue-async-vendor" in threads
    bridge.close()
    assert shop.closed
    assert "proofqueue-async-vendor" not in {t.name for t in threading.enumerate()}
    assert bridge.create_job(ORDER) == Accepted("job-r-1")
    bridge.close()


def test_proofqueue_buys_through_an_async_vendor(shop: Shop) -> None:
    """``ProofQueue(vendor=...)`` takes an AsyncVendor: submit buys through it, and closing
    the queue closes the vendor."""
    with ProofQueue(Settings(store=":memory:"), vendor=shop) as pq:
        receipt = pq.submit("r-1", actor="agent", target="0xP/logo", params={"n": 1})
        assert receipt.status == Status.SUBMITTED
        assert receipt.job_id == "job-r-1"
        assert isinstance(pq.parts.vendor, AsyncVendorBridge)
    assert shop.closed
