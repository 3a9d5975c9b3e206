"""The simulator's records: jobs, Idempotency-Keys and orders (a create's body, checked), and
the ledger that keeps the jobs, the keys and the outcome counts behind one lock."""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import PHASES, Fate


@dataclass
class _Job:
    id: str
    provider: str
    offering: str
    request_id: str | None
    created_at: float
    done_at: float
    fate: Fate

    def phases(self, now: float) -> list[str]:
        """Every phase the job has entered by ``now``, the current one last."""
        if now >= self.done_at:
            return [*PHASES, self.fate]
        reached = int(4 * (now - self.created_at) / (self.done_at - self.created_at))
        return list(PHASES[: max(1, min(4, reached + 1))])

    def as_json(self, now: float) -> dict[str, Any]:
        phases = self.phases(now)
        deliverable = None
        if phases[-1] == "COMPLETED":
            number = self.id.removeprefix("job-")
            deliverable = {"id": f"dlv-{number}", "type": "text", "value": f"result of {self.id}"}
        return {
            "id": self.id,
            "phase": phases[-1],
            "deliverable": deliverable,
            "memos": [
                {"id": f"{self.id}-memo-{n}", "nextPhase": phase}
                for n, phase in enumerate(phases[1:], start=1)
            ],
            "clientRequestId": self.request_id,
            "providerWalletAddress": self.provider,
            "jobOfferingName": self.offering,
        }


@dataclass
class KeyRecord:
    fingerprint: str
    job_id: str | None = None  # None: the first create with this key is still in flight


@dataclass(frozen=True)
class Order:
    provider: str
    offering: str
    request_id: str | None
    fingerprint: str


def read_order(raw: bytes, offerings: tuple[str, ...]) -> Order | tuple[int, str]:
    """The order in a create's body; or the status and message refusing it (400 or 404).

    ``offerings`` lists the accepted "provider/offering" pairs; empty: any is accepted.
    """
    try:
        body = json.loads(raw)
    except ValueError:
        return 400, "body must be JSON"
    problem = _order_problem(body)
    if problem is not None:
        return 400, problem
    provider, offering = body["providerWalletAddress"], body["jobOfferingName"]
    if offerings and f"{provider}/{offering}" not in offerings:
        return 404, "unknown provider or offering"
    fingerprint = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return Order(provider, offering, body.get("clientRequestId"), fingerprint)


def _order_problem(body: Any) -> str | None:
    """Why a create body is unacceptable (400), or None."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for name in ("providerWalletAddress", "jobOfferingName"):
        value = body.get(name)
        if not isinstance(value, str) or not value:
            return f"{name} must be a non-empty string"
    if not isinstance(body.get("serviceRequirements"), dict):
        return "serviceRequirements must be an object"
    request_id = body.get("clientRequestId")
    if request_id is not None and (not isinstance(request_id, str) or not request_id):
        return "clientRequestId must be a non-empty string"
    if not isinstance(body.get("isAutomated", True), bool):
        return "isAutomated must be a boolean"
    return None


class Ledger:
    """The jobs made, the Idempotency-Keys seen and the outcome counts, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._keys: dict[str, KeyRecord] = {}
        self._counts: Counter[str] = Counter()
        self._job_numbers = itertools.count(1)

    def count(self, outcome: str) -> None:
        with self._lock:
            self._counts[outcome] += 1

    def claim_key(self, key: str | None, fingerprint: str) -> KeyRecord | None:
        """The record a create with ``key`` finds: the earlier one, if any; else None, and the
        key (when there is one) is held for this create, in flight, until ``add_job`` or
        ``release_key``."""
        with self._lock:
            record = self._keys.get(key) if key else None
            if record is None and key:
                self._keys[key] = KeyRecord(fingerprint)
        return record

    def add_job(
        self,
        order: Order,
        key: str | None,
        *,
        created_at: float,
        done_at: float,
        fate: Callable[[], Fate],
    ) -> str:
        """Makes a job, numbered in turn, its fate drawn by ``fate`` (under the lock, once the
        number is taken); records it under ``key``, held by ``claim_key``. Returns its id."""
        with self._lock:
            job_id = f"job-{next(self._job_numbers)}"
            self._jobs[job_id] = _Job(
                job_id,
                order.provider,
                order.offering,
                order.request_id,
                created_at=created_at,
                done_at=done_at,
                fate=fate(),
            )
            if key:
                self._keys[key].job_id = job_id
        return job_id

    def release_key(self, key: str) -> None:
        """Frees a key held by a create that made no job (cancelled while in flight)."""
        with self._lock:
            self._keys.pop(key, None)

    def job(self, job_id: str, now: float) -> dict[str, Any] | None:
        """The job as the vendor shows it at ``now``, or None when there is no such job."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job.as_json(now) if job is not None else None

    def jobs_of(self, request_id: str, now: float) -> list[dict[str, Any]]:
        """The jobs made for a clientRequestId, in the order they were made."""
        with self._lock:
            return [j.as_json(now) for j in self._jobs.values() if j.request_id == request_id]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            per_request: Counter[str] = Counter(
                job.request_id for job in self._jobs.values() if job.request_id is not None
            )
            return {
                "requests": dict(sorted(self._counts.items())),
                "jobs": len(self._jobs),
                "duplicates": sum(n - 1 for n in per_request.values()),
                "jobs_per_request_id": dict(sorted(per_request.items())),
            }
