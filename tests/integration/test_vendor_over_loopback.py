"""The HTTP client against the real simulator over loopback sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from proofqueue.adapters.vendor_http import AsyncHttpVendor, HttpVendor
from proofqueue.ports import (
    Accepted,
    Found,
    Job,
    JobOrder,
    LookupUnsupported,
    Permanent,
    Transient,
    Vendor,
)
from proofqueue.testing.simulator import SimConfig, running_simulator


@dataclass
class Reconciler:
    """The smallest safe buyer: never creates again while a job may already exist."""

    vendor: Vendor
    ambiguous: int = 0

    def buy(self, order: JobOrder) -> str:
        for _ in range(100):
            outcome = self.vendor.create_job(order)
            if isinstance(outcome, Accepted):
                return outcome.job_id
            if isinstance(outcome, Permanent):
                raise AssertionError(f"unexpected permanent failure: {outcome}")
            if outcome.ambiguous:
                self.ambiguous += 1
                found = self.lookup(order.request_id)
                if found is not None and found.jobs:
                    return found.jobs[0].job_id
        raise AssertionError(f"{order.request_id} never settled")

    def lookup(self, request_id: str) -> Found | None:
        """The vendor's jobs for a request; None if it has no lookup. Never guesses."""
        for _ in range(100):
            found = self.vendor.find_jobs(request_id)
            if isinstance(found, Found):
                return found
            if isinstance(found, LookupUnsupported):
                return None
            if isinstance(found, Permanent):
                raise AssertionError(f"unexpected permanent failure: {found}")
        raise AssertionError(f"lookup for {request_id} never answered")


def stats(base_url: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{base_url}/_sim/stats").json()
    return data


def set_faults(base_url: str, **changes: Any) -> None:
    httpx.post(f"{base_url}/_sim/faults", json=changes).raise_for_status()


def order(n: int) -> JobOrder:
    return JobOrder(f"req-{n}", "0xP", "summarize", {"n": n})


@pytest.mark.parametrize(
    ("no_idempotency_key", "no_lookup"),
    [(False, False), (True, False), (False, True)],
    ids=["key-and-lookup", "lookup-only", "key-only"],
)
def test_ambiguous_failures_reconciled_make_exactly_one_job_per_request(
    no_idempotency_key: bool, no_lookup: bool
) -> None:
    """200 requests with half the creates failing after the job was made: 200 jobs, 0 duplicates."""
    config = SimConfig(
        port=0,
        fail_after=0.5,
        seed=11,
        no_idempotency_key=no_idempotency_key,
        no_lookup=no_lookup,
    )
    with (
        running_simulator(config) as base_url,
        HttpVendor(base_url=base_url, api_key=None) as vendor,
    ):
        buyer = Reconciler(vendor)
        job_ids = {buyer.buy(order(n)) for n in range(200)}
        result = stats(base_url)
    assert buyer.ambiguous > 50
    assert len(job_ids) == 200
    assert (result["jobs"], result["duplicates"]) == (200, 0)
    assert result["requests"]["create_500_after"] == buyer.ambiguous


def test_mixed_faults_on_a_vendor_without_idempotency_still_make_no_duplicates() -> None:
    """500s before and after, resets and 429s on creates and lookups: one job per request."""
    config = SimConfig(
        port=0,
        seed=5,
        no_idempotency_key=True,
        fail_before=0.1,
        fail_after=0.3,
        reset_rate=0.1,
        rate_limit=0.1,
    )
    with (
        running_simulator(config) as base_url,
        HttpVendor(base_url=base_url, api_key=None) as vendor,
    ):
        buyer = Reconciler(vendor)
        job_ids = {buyer.buy(order(n)) for n in range(100)}
        result = stats(base_url)
    assert len(job_ids) == 100
    assert (result["jobs"], result["duplicates"]) == (100, 0)
    assert {"create_500_before", "create_500_after", "reset", "rate_limited"} <= set(
        result["requests"]
    )


def test_a_hang_past_the_read_timeout_is_an_ambiguous_timeout_and_the_job_exists() -> None:
    """timeout_rate: the client gives up reading; the vendor did create the job."""
    config = SimConfig(port=0, timeout_rate=1.0, hang_seconds=5.0)
    with (
        running_simulator(config) as base_url,
        HttpVendor(base_url=base_url, api_key=None, read_timeout=0.2) as vendor,
    ):
        created = vendor.create_job(order(1))
        read = vendor.get_job("job-1")
        assert stats(base_url)["jobs"] == 1
    assert isinstance(created, Transient)
    assert (created.kind, created.ambiguous) == ("timeout", True)
    assert isinstance(read, Transient)
    assert (read.kind, read.ambiguous) == ("timeout", False)


def test_a_dropped_connection_is_an_ambiguous_connection_fault() -> None:
    """reset_rate: the answer breaks off; a create may have happened, a read changed nothing."""
    with (
        running_simulator(SimConfig(port=0, reset_rate=1.0)) as base_url,
        HttpVendor(base_url=base_url, api_key=None) as vendor,
    ):
        created = vendor.create_job(order(1))
        found = vendor.find_jobs("req-1")
    assert isinstance(created, Transient)
    assert (created.kind, created.ambiguous) == ("connection", True)
    assert isinstance(found, Transient)
    assert (found.kind, found.ambiguous) == ("connection", False)


def test_a_429_carries_its_retry_after_over_the_wire() -> None:
    """rate_limit: rate_limited with Retry-After, not ambiguous."""
    with (
        running_simulator(SimConfig(port=0, rate_limit=1.0, retry_after=3)) as base_url,
        HttpVendor(base_url=base_url, api_key=None) as vendor,
    ):
        outcome = vendor.create_job(order(1))
    assert outcome == Transient("rate_limited", "HTTP 429: rate limited", 429, 3.0, False)


def test_a_refused_connection_is_not_ambiguous() -> None:
    """Nothing listening: the request never left, so it cannot have bought anything."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with HttpVendor(base_url=f"http://127.0.0.1:{port}", api_key=None) as vendor:
        outcome = vendor.create_job(order(1))
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous) == ("connection", False)


def test_the_api_key_and_outage_are_enforced_over_the_wire() -> None:
    """401 with a wrong key is permanent; an outage switched on at run time is transient."""
    with (
        running_simulator(SimConfig(port=0, api_key="sim-key")) as base_url,
        HttpVendor(base_url=base_url, api_key="wrong-key") as intruder,
        HttpVendor(base_url=base_url, api_key="sim-key") as vendor,
    ):
        refused = intruder.create_job(order(1))
        set_faults(base_url, outage_now=True)
        during = vendor.create_job(order(1))
        set_faults(base_url, outage_now=False)
        after = vendor.create_job(order(1))
    assert refused == Permanent(401, "HTTP 401: invalid or missing api key")
    assert isinstance(during, Transient)
    assert (during.status, during.ambiguous) == (500, True)
    assert after == Accepted("job-1")


def test_the_async_client_buys_and_reads_a_job_over_the_wire() -> None:
    """AsyncHttpVendor end to end: create, replay, lookup, completion."""

    async def scenario(base_url: str) -> tuple[object, ...]:
        async with AsyncHttpVendor(base_url=base_url, api_key=None) as vendor:
            created = await vendor.create_job(order(1))
            replayed = await vendor.create_job(order(1))
            found = await vendor.find_jobs("req-1")
            await asyncio.sleep(0.15)
            job = await vendor.get_job("job-1")
            return created, replayed, found, job

    with running_simulator(SimConfig(port=0, complete_after=0.1)) as base_url:
        created, replayed, found, job = asyncio.run(scenario(base_url))
    assert created == Accepted("job-1")
    assert replayed == Accepted("job-1", replayed=True)
    assert isinstance(found, Found)
    assert [j.job_id for j in found.jobs] == ["job-1"]
    assert job == Job("job-1", "COMPLETED", "dlv-1", "req-1")


def test_stopping_the_simulator_does_not_wait_for_a_hanging_call() -> None:
    """A call hanging for 30 s ends when the simulator stops, and the stop is quick."""
    outcomes: list[object] = []
    config = SimConfig(port=0, timeout_rate=1.0, hang_seconds=30.0)
    with running_simulator(config) as base_url:
        vendor = HttpVendor(base_url=base_url, api_key=None, read_timeout=20.0)
        caller = threading.Thread(target=lambda: outcomes.append(vendor.create_job(order(1))))
        caller.start()
        time.sleep(0.2)
        stopping = time.monotonic()
    stopped_in = time.monotonic() - stopping
    caller.join(timeout=5)
    vendor.close()
    assert stopped_in < 5.0
    assert not caller.is_alive()
    assert len(outcomes) == 1
