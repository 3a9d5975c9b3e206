"""The vendor simulator's seeded dice: a fixed seed gives a fixed run of faults and fates.

The expectation below was recorded from the simulator as one module, before it became a
package; it pins the order of the random draws (a fault per call, the reset coin on creates,
a fate per new job), so any change to that order shows here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

import httpx

from proofqueue.testing.simulator import SimConfig, SimulatedReset, Simulator

SETTINGS: dict[str, Any] = {
    "seed": 20240611,
    "rate_limit": 0.1,
    "fail_before": 0.1,
    "timeout_rate": 0.1,
    "reset_rate": 0.2,
    "fail_after": 0.1,
    "slow_rate": 0.1,
    "hang_seconds": 0.0,
    "slow_seconds": 0.0,
    "complete_after": 1.0,
    "reject_rate": 0.3,
    "expire_rate": 0.2,
}
NO_FAULTS = {
    "rate_limit": 0.0,
    "fail_before": 0.0,
    "timeout_rate": 0.0,
    "reset_rate": 0.0,
    "fail_after": 0.0,
    "slow_rate": 0.0,
}

# One outcome per call, as counted in the stats (``create_201``, ``reset_after``, ...).
EXPECTED_CALLS: list[str] = [
    "get_404",
    "create_201",
    "create_500_before",
    "lookup_200",
    "create_201",
    "timeout",
    "create_201",
    "create_500_before",
    "rate_limited",
    "reset_after",
    "get_500",
    "rate_limited",
    "reset_after",
    "reset_after",
    "create_201",
    "reset",
    "create_201",
    "timeout",
    "create_201",
    "create_500_after",
    "reset",
    "create_201",
    "create_200_replay",
    "create_201",
    "lookup_200",
    "reset",
    "reset",
    "create_400",
    "reset_after",
    "create_201",
    "get_200",
    "lookup_500",
    "create_201",
    "rate_limited",
    "create_201",
    "get_200",
    "create_201",
    "create_201",
    "reset",
    "create_500_after",
    "timeout",
    "reset",
    "create_201",
    "rate_limited",
    "create_201",
    "get_200",
    "create_201",
    "create_201",
    "create_201",
    "create_400",
    "get_200",
    "rate_limited",
    "lookup_200",
    "reset_after",
    "rate_limited",
    "timeout",
    "reset",
    "create_201",
    "timeout",
    "rate_limited",
]
# Every job made, by job id: its request id and final phase.
EXPECTED_FATES: dict[str, str] = {
    "job-1": "req-1 REJECTED",
    "job-2": "req-3 EXPIRED",
    "job-3": "req-6 COMPLETED",
    "job-4": "req-9 COMPLETED",
    "job-5": "req-12 EXPIRED",
    "job-6": "req-13 COMPLETED",
    "job-7": "req-14 COMPLETED",
    "job-8": "req-15 COMPLETED",
    "job-9": "req-18 COMPLETED",
    "job-10": "req-19 EXPIRED",
    "job-11": "req-21 COMPLETED",
    "job-12": "req-23 COMPLETED",
    "job-13": "req-27 EXPIRED",
    "job-14": "req-29 EXPIRED",
    "job-15": "req-32 COMPLETED",
    "job-16": "req-33 COMPLETED",
    "job-17": "req-36 COMPLETED",
    "job-18": "req-37 COMPLETED",
    "job-19": "req-39 COMPLETED",
    "job-20": "req-42 EXPIRED",
    "job-21": "req-44 COMPLETED",
    "job-22": "req-45 COMPLETED",
    "job-23": "req-47 REJECTED",
    "job-24": "req-48 EXPIRED",
    "job-25": "req-53 EXPIRED",
    "job-26": "req-57 REJECTED",
}


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _create_body(n: int, *, bad: bool = False) -> dict[str, Any]:
    return {
        "providerWalletAddress": "0xP",
        "jobOfferingName": "summarize",
        "serviceRequirements": "not an object" if bad else {"n": n},
        "clientRequestId": f"req-{n}",
    }


def _run() -> tuple[list[str], dict[str, str]]:
    clock = _Clock()
    simulator = Simulator(SimConfig(**SETTINGS), clock=clock)

    async def scenario(client: httpx.AsyncClient) -> tuple[list[str], dict[str, str]]:
        calls: list[str] = []

        async def call(method: str, path: str, **kwargs: Any) -> None:
            before = Counter(simulator.stats()["requests"])
            with contextlib.suppress(SimulatedReset):  # a dropped connection: counted all the same
                await client.request(method, path, **kwargs)
            counted = Counter(simulator.stats()["requests"]) - before
            assert sum(counted.values()) == 1
            calls.append(next(iter(counted)))

        for i in range(60):
            if i % 5 == 0:
                await call("GET", f"/acp/jobs/job-{i // 5 + 1}")
            elif i % 7 == 3:
                await call("GET", "/acp/jobs", params={"clientRequestId": f"req-{i - 1}"})
            elif i % 6 == 4:  # a retry of the previous call's key and body
                body, key = _create_body(i - 1), f"key-{i - 1}"
                await call("POST", "/acp/jobs", json=body, headers={"Idempotency-Key": key})
            elif i % 11 == 5:  # a bad body: refused 400 unless a fault answers first
                body, key = _create_body(i, bad=True), f"key-{i}"
                await call("POST", "/acp/jobs", json=body, headers={"Idempotency-Key": key})
            else:
                body, key = _create_body(i), f"key-{i}"
                await call("POST", "/acp/jobs", json=body, headers={"Idempotency-Key": key})
            clock.now += 0.01

        await client.post("/_sim/faults", json=NO_FAULTS)
        clock.now += 10.0
        count = simulator.stats()["jobs"]
        fates = {}
        for n in range(1, count + 1):
            data = (await client.get(f"/acp/jobs/job-{n}")).json()["data"]
            fates[data["id"]] = f"{data['clientRequestId']} {data['phase']}"
        return calls, fates

    async def main() -> tuple[list[str], dict[str, str]]:
        transport = httpx.ASGITransport(app=simulator.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            return await scenario(client)

    return asyncio.run(main())


def test_a_fixed_seed_gives_the_recorded_faults_and_fates() -> None:
    """The same seed, the same calls: the same answers and the same job fates as recorded."""
    calls, fates = _run()
    assert calls == EXPECTED_CALLS
    assert fates == EXPECTED_FATES
