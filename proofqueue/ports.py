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
from proofqueue.domain.jsonvalue import JsonValue
from proofqueue.domain.work import Work

if TYPE_CHECKING:
    from proofqueue.domain.breaker_log import BreakerLog
    from proofqueue.domain.intent import Intent

TransientKind = Literal["http", "rate_limited", "timeout", "connection"]

# ACP job phases.
TERMINAL_OK = "COMPLETED"
TERMINAL_BAD = frozenset({"REJECTED", "EXPIRED"})


@dataclass(frozen=True)
class JobOrder:
    """One create call: what to buy, under which idempotency key. ``request_id`` is the
    idempotency key (send it as the vendor's idempotency key or client reference if it has
    one); ``provider``/``offering`` split the intent's target; ``params`` are the job's
    requirements, opened (in clear) for this call only."""

    request_id: str
    provider: str
    offering: str
    params: Mapping[str, JsonValue]


@dataclass(frozen=True)
class Accepted:
    """The vendor holds a job for this request: ``job_id`` is followed until it completes.
    ``replayed``: the vendor said this create repeated an earlier one (same job)."""

    job_id: str
    replayed: bool = False


@dataclass(frozen=True)
class Transient:
    """Worth trying again later (5xx, 429, timeouts, connection errors); counts against the
    breaker. ``ambiguous``: the request may have reached the vendor, so its job is looked
    up before any new create. ``retry_after``: the vendor's own delay, honoured as a floor.
    ``foreign``: the answer was about another job or request (it says nothing of this one).
    """

    kind: TransientKind
    detail: str
    status: int | None = None
    retry_after: float | None = None
    ambiguous: bool = False
    foreign: bool = False


@dataclass(frozen=True)
class Permanent:
    """Retrying cannot help (400, 401, 404, 422 or the like): a create fails the intent at
    once and does not count against the breaker. ``status``: an HTTP-like code."""

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
    """The vendor cannot be asked which jobs it holds for a request (no such call, or one
    whose answers cannot be tied to the request)."""

    detail: str


CreateOutcome = Accepted | Transient | Permanent
"""What ``create_job`` answers."""
JobOutcome = Job | Transient | Permanent
"""What ``get_job`` answers."""
LookupOutcome = Found | LookupUnsupported | Transient | Permanent
"""What ``find_jobs`` answers."""


class Vendor(Protocol):
    """A vendor that sells jobs (blocking calls). ``name`` keys its circuit breaker.

    Every call answers an outcome value and never raises for a vendor fault; each call
    should be bounded in time (a slow call counts as a failure for the breaker)."""

    @property
    def name(self) -> str:
        """A stable name: the breaker's key, shown by ``health``."""
        ...

    def create_job(self, order: JobOrder) -> CreateOutcome:
        """Ask the vendor to create the job of ``order`` (idempotent per request_id if it can)."""
        ...

    def get_job(self, job_id: str) -> JobOutcome:
        """The job as the vendor reports it now (its phase, and deliverable once COMPLETED)."""
        ...

    def find_jobs(self, request_id: str) -> LookupOutcome:
        """The jobs the vendor holds for ``request_id``: asked after an ambiguous create."""
        ...


class AsyncVendor(Protocol):
    """The same port with coroutines, for vendors whose SDK is asyncio.
    ``ProofQueue(vendor=...)`` accepts either."""

    @property
    def name(self) -> str:
        """A stable name: the breaker's key, shown by ``health``."""
        ...

    async def create_job(self, order: JobOrder) -> CreateOutcome:
        """Ask the vendor to create the job of ``order`` (idempotent per request_id if it can)."""
        ...

    async def get_job(self, job_id: str) -> JobOutcome:
        """The job as the vendor reports it now (its phase, and deliverable once COMPLETED)."""
        ...

    async def find_jobs(self, request_id: str) -> LookupOutcome:
        """The jobs the vendor holds for ``request_id``: asked after an ambiguous create."""
        ...


class IntentStore(Protocol):
    """The log. ``save`` writes the aggregates' new events in one transaction and raises
    ``eventsourcing.persistence.IntegrityError`` when another writer got there first (a
    stale version, or a new aggregate whose id exists): that is the claim's lock and the
    idempotency check."""

    def intent(self, request_id: str) -> Intent: ...

    def intents(self, request_ids: Sequence[str]) -> dict[str, Intent]:
        """Several intents read in one go; one missing or damaged is left out."""
        ...

    def breaker_log(self, vendor: str) -> BreakerLog | None: ...

    def breaker_version(self, vendor: str) -> int:
        """The breaker's version in the log (0 before its first event), not loading it."""
        ...

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

    def progress(self) -> tuple[int, int]:
        """How far the views are: their position and the log's last notification id."""
        ...

    def work(self, now: datetime, due_limit: int, slots: Sequence[str] | None = None) -> Work:
        """What a round may take up, in one read: jobs to follow and claimed attempts (up to
        a thousand each) and at most ``due_limit`` due intents, oldest first, each within
        ``slots`` (None: all)."""
        ...

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
