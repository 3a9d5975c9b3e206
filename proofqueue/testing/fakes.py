"""Test doubles that record what happened: a scripted fake vendor and a hand-moved clock.

Tests assert on ``FakeVendor.calls`` (and the job table), never on Mock call lists.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from proofqueue.ports import (
    Accepted,
    CreateOutcome,
    Found,
    Job,
    JobOrder,
    JobOutcome,
    LookupOutcome,
    LookupUnsupported,
    Permanent,
    Transient,
)

CallKind = Literal["create", "get", "find"]


@dataclass(frozen=True)
class Call:
    """One call the fake vendor received: ``key`` is the request_id (create, find) or job_id."""

    kind: CallKind
    key: str
    order: JobOrder | None = None


@dataclass(frozen=True)
class CreatedThenLost:
    """Scripted create: the vendor creates the job, then the caller sees ``outcome`` (the
    ambiguous case: a 500 or a timeout after the job exists)."""

    outcome: Transient


Scripted = CreateOutcome | CreatedThenLost


@dataclass
class FakeVendor:
    """A vendor whose answers a test scripts. Unscripted creates are accepted; a create for a
    request_id that already has a job is an idempotent replay of it (as the ACP extension
    says), unless ``honors_idempotency_key`` is False."""

    name: str = "fake"
    lookup_supported: bool = True
    honors_idempotency_key: bool = True
    creates: deque[Scripted] = field(default_factory=deque)
    reads: deque[JobOutcome] = field(default_factory=deque)
    lookups: deque[LookupOutcome] = field(default_factory=deque)
    jobs: dict[str, Job] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    # -- scripting ------------------------------------------------------------------------

    def script(self, *outcomes: Scripted) -> None:
        """Answer the next creates with ``outcomes``, in order."""
        self.creates.extend(outcomes)

    def set_phase(self, job_id: str, phase: str, deliverable_id: str | None = None) -> None:
        self.jobs[job_id] = replace(self.jobs[job_id], phase=phase, deliverable_id=deliverable_id)

    def calls_of(self, kind: CallKind) -> list[Call]:
        return [call for call in self.calls if call.kind == kind]

    def jobs_for(self, request_id: str) -> list[Job]:
        return [job for job in self.jobs.values() if job.client_request_id == request_id]

    # -- the Vendor port ------------------------------------------------------------------

    def create_job(self, order: JobOrder) -> CreateOutcome:
        self.calls.append(Call("create", order.request_id, order))
        scripted = self.creates.popleft() if self.creates else None
        if isinstance(scripted, Transient | Permanent):
            return scripted
        existing = self.jobs_for(order.request_id)
        if existing and self.honors_idempotency_key:
            job, replayed = existing[0], True
        else:
            job, replayed = self._new_job(order.request_id), False
        if isinstance(scripted, CreatedThenLost):
            return scripted.outcome
        return Accepted(job.job_id, replayed=replayed)

    def get_job(self, job_id: str) -> JobOutcome:
        self.calls.append(Call("get", job_id))
        if self.reads:
            return self.reads.popleft()
        job = self.jobs.get(job_id)
        return job if job is not None else Permanent(404, f"no job {job_id}")

    def find_jobs(self, request_id: str) -> LookupOutcome:
        self.calls.append(Call("find", request_id))
        if not self.lookup_supported:
            return LookupUnsupported("this vendor has no clientRequestId lookup")
        if self.lookups:
            return self.lookups.popleft()
        return Found(tuple(self.jobs_for(request_id)))

    def _new_job(self, request_id: str) -> Job:
        job = Job(f"job-{len(self.jobs) + 1}", "REQUEST", client_request_id=request_id)
        self.jobs[job.job_id] = job
        return job


@dataclass
class Clock:
    """A clock a test moves by hand; pass it where a ``Callable[[], datetime]`` is wanted."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
