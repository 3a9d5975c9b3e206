"""The flow every end-to-end contender runs for one intent, written against plain httpx:
create the job, then read it on one shared schedule until COMPLETED.

The read schedule is proofqueue's: the first read ``poll_s`` after the create is answered,
then doubling up to ``poll_cap_s``. proofqueue runs with ``poll_s`` equal to the simulator's
``complete_after`` (0.05 s) and its default cap, and so do the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.intents import OFFERING, PROVIDER, params

POLL_S = 0.05
POLL_CAP_S = 5.0
TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass(frozen=True)
class Schedule:
    poll_s: float = POLL_S
    cap_s: float = POLL_CAP_S


def create_job(client: httpx.Client, url: str, request_id: str, index: int) -> str:
    body: dict[str, Any] = {
        "providerWalletAddress": PROVIDER,
        "jobOfferingName": OFFERING,
        "serviceRequirements": params(index),
        "clientRequestId": request_id,
        "isAutomated": True,
    }
    answer = client.post(f"{url}/acp/jobs", json=body, headers={"Idempotency-Key": request_id})
    answer.raise_for_status()
    return str(answer.json()["data"]["jobId"])


def wait_completed(client: httpx.Client, url: str, job_id: str, schedule: Schedule) -> str:
    """Read the job on the schedule until it is COMPLETED; return the deliverable id."""
    delay = schedule.poll_s
    while True:
        time.sleep(delay)
        answer = client.get(f"{url}/acp/jobs/{job_id}")
        answer.raise_for_status()
        data = answer.json()["data"]
        if data["phase"] == "COMPLETED":
            return str(data["deliverable"]["id"])
        if data["phase"] in ("REJECTED", "EXPIRED"):
            raise RuntimeError(f"job {job_id} ended {data['phase']}")
        delay = min(schedule.cap_s, delay * 2)
