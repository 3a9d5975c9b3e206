"""The simulator's hostile answers (redirect after commit, huge and malformed job ids,
never-finishing and oversized bodies, COMPLETED without a deliverable), each also read by
the real HTTP client: ambiguous or transient, never a job id stored or a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from proofqueue.adapters.vendor_http.aclient import AsyncHttpVendor
from proofqueue.ports import Found, Job, JobOrder, Transient
from proofqueue.testing.simulator import SimConfig, Simulator

T = TypeVar("T")
ORDER = JobOrder("req-1", "0xP", "summarize", {"text": "hi"})


def through_client(
    settings: dict[str, Any],
    scenario: Callable[[AsyncHttpVendor, Simulator], Awaitable[T]],
    total_timeout: float = 30.0,
) -> T:
    """Run ``scenario`` with the real async client on an in-process simulator."""
    simulator = Simulator(SimConfig(**settings))

    async def main() -> T:
        transport = httpx.ASGITransport(app=simulator.app)
        async with (
            httpx.AsyncClient(transport=transport) as client,
            AsyncHttpVendor(
                base_url="http://sim", api_key=None, client=client, total_timeout=total_timeout
            ) as vendor,
        ):
            return await scenario(vendor, simulator)

    try:
        return asyncio.run(main())
    finally:
        simulator.close()


async def create_then_lookup(vendor: AsyncHttpVendor, simulator: Simulator) -> tuple[Any, Any]:
    created = await vendor.create_job(ORDER)
    await simulator_set(simulator, redirect_after=0, bad_job_id=0, oversized_rate=0)
    return created, await vendor.find_jobs("req-1")


@pytest.mark.parametrize(
    ("setting", "outcome"),
    [
        ("redirect_after", "create_303_after"),
        ("bad_job_id", "create_bad_id_after"),
        ("oversized_rate", "oversized"),
    ],
)
def test_a_create_answered_badly_after_the_job_was_made_is_ambiguous_and_found(
    setting: str, outcome: str
) -> None:
    """The job exists; the answer cannot be trusted: ambiguous transient, and the lookup
    then finds the one job."""
    created, found = through_client({setting: 1.0}, create_then_lookup)
    assert isinstance(created, Transient), created
    assert created.ambiguous
    assert isinstance(found, Found)
    assert len(found.jobs) == 1


def test_the_simulator_counts_each_hostile_create_and_makes_one_job() -> None:
    async def scenario(vendor: AsyncHttpVendor, simulator: Simulator) -> dict[str, Any]:
        await vendor.create_job(ORDER)
        await vendor.create_job(ORDER)
        return simulator.stats()

    stats = through_client({"bad_job_id": 1.0}, scenario)
    assert stats["requests"]["create_bad_id_after"] == 2
    assert stats["jobs"] == 1


@pytest.mark.parametrize("huge", [True, False])
def test_a_bad_job_id_is_huge_or_holds_line_breaks(huge: bool) -> None:
    from proofqueue.testing.simulator.faults import bad_job_id

    job_id = bad_job_id(huge)
    assert len(job_id) > 100_000 if huge else ("\n" in job_id and "\u2028" in job_id)


def test_a_never_finishing_answer_is_cut_by_the_call_deadline() -> None:
    """The body drips a byte at a time: the client's deadline ends the call (ambiguous)."""

    async def scenario(vendor: AsyncHttpVendor, simulator: Simulator) -> Any:
        return await vendor.create_job(ORDER)

    created = through_client({"drip_rate": 1.0, "hang_seconds": 5}, scenario, total_timeout=0.5)
    assert isinstance(created, Transient), created
    assert created.ambiguous


def test_an_oversized_read_is_a_transient() -> None:
    async def scenario(vendor: AsyncHttpVendor, simulator: Simulator) -> Any:
        await vendor.create_job(ORDER)
        await simulator_set(simulator, oversized_rate=1.0)
        return await vendor.get_job("job-1")

    assert isinstance(through_client({}, scenario), Transient)


async def simulator_set(simulator: Simulator, **faults: Any) -> None:
    transport = httpx.ASGITransport(app=simulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        answer = await client.post("/_sim/faults", json=faults)
        assert answer.status_code == 200, answer.text


def test_a_completed_job_is_read_without_its_deliverable_at_the_rate() -> None:
    async def scenario(vendor: AsyncHttpVendor, simulator: Simulator) -> Any:
        await vendor.create_job(ORDER)
        await asyncio.sleep(0.05)
        return await vendor.get_job("job-1"), simulator.stats()

    read, stats = through_client({"complete_after": 0, "no_deliverable_rate": 1.0}, scenario)
    assert read == Job("job-1", "COMPLETED", None, "req-1")
    assert stats["requests"]["get_no_deliverable"] == 1


def test_the_new_faults_are_settable_at_run_time_and_never_stack() -> None:
    async def scenario(vendor: AsyncHttpVendor, simulator: Simulator) -> Any:
        await simulator_set(simulator, redirect_after=0.1, drip_rate=0.1, no_deliverable_rate=1)
        return simulator.config

    config = through_client({}, scenario)
    assert (config.redirect_after, config.drip_rate, config.no_deliverable_rate) == (0.1, 0.1, 1)
    with pytest.raises(ValueError, match="at most 1"):
        SimConfig(fail_before=0.5, oversized_rate=0.3, bad_job_id=0.3)
