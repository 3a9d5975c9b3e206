"""The ports: what proofqueue needs from the world, in its own terms.

- ``Vendor`` / ``AsyncVendor``: the seller of jobs, and the outcome values of its calls.
- ``IntentStore``: the event-sourced log of intents and breakers.
- ``Sealer``: seals params at rest and opens them again.
- ``Views``: the read models the worker follows.
- ``NoteSigner``: the transparency log's signing key.

The vendor port:

The HTTP implementation for the ACP-shaped protocol lives in ``adapters/vendor_http/``;
unit tests use a small fake. Every call returns an outcome value, never raises for a
vendor fault, so the process manager handles each class of outcome explicitly:

- ``Accepted``: the vendor holds a job for this request (``replayed`` when the vendor said
  it was an idempotent replay of an earlier create).
- ``Transient``: worth retrying later; counts against the breaker. ``ambiguous`` is True when
  the request may have reached the vendor (a 5xx, a 3xx, a read timeout, a connection dropped
  after the request was sent, an unreadable success answer to a create): the job may exist, so
  reconcile before buying again. ``foreign`` is True when the vendor answered about another
  job or request (a read of job A answered with job B, a create answered with another
  request's clientRequestId): that answer says nothing about this job.
- ``Permanent``: retrying cannot help (400, 401, 404, 422); fails the intent at once and does
  not count against the breaker.
- ``LookupUnsupported``: the vendor offers no ``clientRequestId`` lookup to rely on: no such
  route, or an answer whose jobs cannot be tied to this request (it ignored the filter).

A ``Job`` is reported as the vendor gave it: its phase may be one this module does not name
(a short token, checked by the HTTP client), and a ``COMPLETED`` job may come without a
deliverable. What either means is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from proofqueue.domain.heartbeat import Heartbeat

if TYPE_CHECKING:
    from proofqueue.domain.breaker_log import BreakerLog
    from proofqueue.domain.intent import Intent

TransientKind = Literal["http", "rate_limited", "timeout", "connection"]

# ACP job phases.
TERMINAL_OK = "COMPLETED"
TERMINAL_BAD = frozenset({"REJECTED", "EXPIRED"})


@dataclass(frozen=True)
class JobOrder:
    """One create call: what to buy, under which idempotency key."""

    request_id: str
    provider: str
    offering: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Accepted:
    job_id: str
    replayed: bool = False


@dataclass(frozen=True)
class Transient:
    kind: TransientKind
    detail: str
    status: int | None = None
    retry_after: float | None = None
    ambiguous: bool = False
    foreign: bool = False


@dataclass(frozen=True)
class Permanent:
    status: int
    detail: str


@dataclass(frozen=True)
class Job:
    """A job as the vendor reports it (phase: any short token; COMPLETED may lack a deliverable)."""

    job_id: str
    phase: str
    deliverable_id: str | None = None
    client_request_id: str | None = None


@dataclass(frozen=True)
class Found:
    """Result of a lookup by request_id: the jobs the vendor holds for it (maybe none)."""

    jobs: tuple[Job, ...] = field(default=())


@dataclass(frozen=True)
class LookupUnsupported:
    detail: str


CreateOutcome = Accepted | Transient | Permanent
JobOutcome = Job | Transient | Permanent
LookupOutcome = Found | LookupUnsupported | Transient | Permanent


class Vendor(Protocol):
    """A vendor that sells jobs. ``name`` keys its circuit breaker."""

    @property
    def name(self) -> str: ...

    def create_job(self, order: JobOrder) -> CreateOutcome: ...

    def get_job(self, job_id: str) -> JobOutcome: ...

    def find_jobs(self, request_id: str) -> LookupOutcome: ...


class AsyncVendor(Protocol):
    """The same port for asyncio callers."""

    @property
    def name(self) -> str: ...

    async def create_job(self, order: JobOrder) -> CreateOutcome: ...

    async def get_job(self, job_id: str) -> JobOutcome: ...

    async def find_jobs(self, request_id: str) -> LookupOutcome: ...


class IntentStore(Protocol):
    """The log. ``save`` writes the aggregates' new events in one transaction and raises
    ``eventsourcing.persistence.IntegrityError`` when another writer got there first (a
    stale version, or a new aggregate whose id exists): that is the claim's lock and the
    idempotency check."""

    def intent(self, request_id: str) -> Intent: ...

    def breaker_log(self, vendor: str) -> BreakerLog | None: ...

    def save(self, *aggregates: Any) -> object: ...


class Sealer(Protocol):
    """Params at rest: sealed (AES-GCM, bound to the request_id) when a key is set."""

    @property
    def has_key(self) -> bool: ...

    def digest(self, body: bytes) -> str: ...

    def seal(self, params: Mapping[str, Any], request_id: str) -> str: ...

    def open(self, sealed: str, request_id: str) -> dict[str, Any]: ...


class Views(Protocol):
    """What the worker reads from the views and shares through the store: due attempts,
    claimed attempts and submitted jobs (each within the worker's slots of work), and the
    heartbeats that decide those slots."""

    def catch_up(self) -> int: ...

    def due(self, now: datetime, limit: int, slots: Sequence[str] | None = None) -> list[str]: ...

    def claimed(self, limit: int, slots: Sequence[str] | None = None) -> list[tuple[str, int]]: ...

    def submitted(
        self, limit: int, slots: Sequence[str] | None = None
    ) -> list[tuple[str, str]]: ...

    def beat(
        self,
        beat: Heartbeat,
        lease_s: float,
        reads: Mapping[str, float | None],
        blocked: Mapping[str, tuple[str, float]],
    ) -> list[str]:
        """Write this worker's heartbeat, when its jobs are read next (None: no longer
        followed here) and which intents it cannot attempt (intent id -> why, until when);
        answer the live workers, sorted."""
        ...


class NoteSigner(Protocol):
    """The log's signing key: signs checkpoint texts as signed notes (c2sp.org/signed-note).
    ``name`` is the log's origin; ``verifier_key`` is what others check signatures with."""

    name: str

    @property
    def verifier_key(self) -> str: ...

    def sign(self, text: str) -> str: ...
