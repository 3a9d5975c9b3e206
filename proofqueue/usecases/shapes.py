"""The typed answers of the reads: the operator list, the breaker's health, an intent's
trail, the workers. Each is a frozen pydantic model whose ``model_dump(mode="json")`` is
exactly the JSON that ``--json`` prints and the HTTP API answers (the same field names, in
the same order; times as ISO 8601 text with ``+00:00``). In Python, times are ``datetime``
and statuses are the ``Status`` and ``BreakerState`` enums (both ``str`` subclasses).

    IntentRow       a row of ``list``
    Health          ``health``: with ``Held``, ``Transition``, ``DamagedEvent``, ``BreakerDamage``
    Trail           ``show``: with ``TrailEvent``
    WorkerRow       a row of ``workers``

and ``NewIntent``, one item of ``submit_many``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PlainSerializer, WithJsonSchema

from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.intent import Status


def _iso(value: datetime) -> str:
    return value.isoformat()


# A time: ``datetime`` in Python, ``datetime.isoformat()`` text in JSON.
IsoTime = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Shape(BaseModel):
    """Frozen, no unknown fields, serialized under the JSON names (``from``)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", serialize_by_alias=True, validate_by_name=True
    )


class IntentRow(Shape):
    """One intent in the operator list (``proofqueue list``)."""

    request_id: str
    status: Status
    actor: str
    target: str
    attempts: int
    last_error: str | None
    next_attempt_at: IsoTime | None = Field(description="when the next attempt is due (open)")
    queued_at: IsoTime
    age_s: float = Field(description="seconds since it was queued")
    waiting_for: str | None = Field(
        description="why an open intent waits (None once terminal), or where its trail is damaged"
    )


class Held(Shape):
    """An operator's hold on the vendor: no process calls it until it is released."""

    by: str
    reason: str
    since: IsoTime


class Transition(Shape):
    """One move of the breaker (``from`` in JSON; ``from_`` in Python)."""

    at: IsoTime
    from_: BreakerState = Field(alias="from")
    to: BreakerState
    reason: str
    failure_ratio: float
    calls: int
    open_until: IsoTime | None


class DamagedEvent(Shape):
    """A stored event the views could not use and skipped (``verify`` names why)."""

    intent: str = Field(description="the request_id, 'breaker of <vendor>' or the aggregate id")
    request_id: str | None
    aggregate_id: str
    event: int = Field(description="its position in the aggregate's trail (1-based)")
    reason: str


class BreakerDamage(Shape):
    """The breaker's first damaged event: its state is then the last good one."""

    event: int | None
    reason: str


class Health(Shape):
    """The breaker health view (``proofqueue health``), with the shared window live."""

    vendor: str | None
    held: Held | None
    state: BreakerState
    since: IsoTime | None
    open_until: IsoTime | None = Field(description="DEGRADED: when probes may start")
    probe_until: IsoTime | None = Field(description="RECOVERING: when the probes' lease ends")
    failure_ratio: float
    calls_in_window: int
    window_s: int | float = Field(description="the window's length, as configured (30 or 30.0)")
    backlog: int = Field(description="QUEUED and RETRYING intents")
    oldest_queued_age_s: float | None
    transitions: tuple[Transition, ...]
    damaged: tuple[DamagedEvent, ...]
    breaker_damaged: BreakerDamage | None

    def seen_by(self, sees_every_intent: bool) -> Health:
        """The view as a caller sees it: one who may not read every intent (an agent) is
        not told which other intents have damaged events (their request_ids)."""
        return self if sees_every_intent else self.model_copy(update={"damaged": ()})


class TrailEvent(Shape):
    """One event of an intent's trail: sanitized fields (params never in clear) and hash."""

    seq: int
    type: str
    at: IsoTime
    fields: dict[str, JsonValue]
    hash: str | None


class Trail(Shape):
    """An intent's whole trail (``proofqueue show``)."""

    request_id: str
    status: Status
    waiting_for: str | None
    events: tuple[TrailEvent, ...]


class WorkerRow(Shape):
    """A worker seen on the store: alive while its heartbeat is younger than the lease."""

    worker: str
    host: str
    pid: int
    started_at: IsoTime
    last_seen_at: IsoTime
    alive: bool
    in_flight: int


class NewIntent(TypedDict):
    """One item of ``submit_many``: the arguments of ``submit`` as a JSON object."""

    request_id: str
    actor: str
    target: str
    params: NotRequired[Mapping[str, JsonValue] | None]
