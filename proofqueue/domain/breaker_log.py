"""The shared record of a vendor's breaker: every transition, with its reason.

Every process that shares the store reads the breaker's state from here, so they agree on
it and a restart keeps it. A transition into RECOVERING names the worker that probes and how
long its probe lease lasts; another worker may take the probing over once the lease ran out.
An operator may hold the vendor (``Held``: no process calls it) and release it
(``Released``); the hold is recorded with the operator's name and reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from proofqueue.domain.breaker import Breaker, BreakerState, Transition
from proofqueue.domain.chained import ChainedAggregate, times_from_text
from proofqueue.domain.errors import IllegalTransition
from proofqueue.domain.intent import NAMESPACE


@dataclass(frozen=True)
class Hold:
    """Who holds the vendor, why, since when."""

    by: str
    reason: str
    since: datetime


def breaker_id(vendor: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"breaker:{vendor}")


class BreakerLog(ChainedAggregate):
    class Opened(ChainedAggregate.Created):
        vendor: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.vendor = self.vendor
            aggregate.last = None
            aggregate.prober = None
            aggregate.probe_until = None

    class Transitioned(ChainedAggregate.Event):
        from_state: str
        to_state: str
        reason: str
        failure_ratio: float
        calls: int
        window_start: datetime
        open_until: datetime | None
        trips: int
        worker: str
        probe_until: datetime | None
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            times_from_text(state, "window_start", "open_until", "probe_until")

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.last = Transition(
                at=self.timestamp,
                from_state=BreakerState(self.from_state),
                to_state=BreakerState(self.to_state),
                reason=self.reason,
                failure_ratio=self.failure_ratio,
                calls=self.calls,
                window_start=self.window_start,
                open_until=self.open_until,
                trips=self.trips,
            )
            is_probe = self.to_state == BreakerState.RECOVERING
            aggregate.prober = self.worker if is_probe else None
            aggregate.probe_until = self.probe_until

    class Held(ChainedAggregate.Event):
        """An operator holds the vendor: no process calls it until released."""

        operator: str
        reason: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.hold = Hold(self.operator, self.reason, self.timestamp)

    class Released(ChainedAggregate.Event):
        operator: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.hold = None

    def __init__(self) -> None:
        """State is set by the events."""
        self.vendor = ""
        self.last: Transition | None = None
        self.prober: str | None = None
        self.probe_until: datetime | None = None
        self.hold: Hold | None = None

    @classmethod
    def open(cls, vendor: str, now: datetime) -> BreakerLog:
        return cls._chain_create(cls.Opened, breaker_id(vendor), now, vendor=vendor)

    def breaker(self, epoch: datetime) -> Breaker:
        """The state machine as the log leaves it (OK since ``epoch`` if never moved)."""
        return Breaker.after(self.last) if self.last else Breaker(since=epoch)

    def hold_calls(self, *, operator: str, reason: str, now: datetime) -> None:
        """Hold every call to the vendor (refused while held already)."""
        if self.hold is not None:
            raise IllegalTransition(
                self.vendor, "hold", "HELD", f"held by {self.hold.by} already; release it first"
            )
        self._chain(self.Held, now, operator=operator, reason=reason)

    def release(self, *, operator: str, now: datetime) -> None:
        if self.hold is None:
            raise IllegalTransition(self.vendor, "release", "not held")
        self._chain(self.Released, now, operator=operator)

    def record(self, transition: Transition, *, worker: str, probe_until: datetime | None) -> None:
        self._chain(
            self.Transitioned,
            transition.at,
            **transition.as_fields(),
            worker=worker,
            probe_until=probe_until,
        )
