"""Aggregates whose events form a proof chain (see ``proof.py``).

Subclasses trigger events through ``_chain`` (or create through ``_chain_create``), which
stamps each event with the caller's time and its hash; ``proof_head`` is the last hash.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any, Self

from eventsourcing.domain import Aggregate

from proofqueue.domain.proof import GENESIS, event_hash

# Attributes every stored event has that the chain covers separately, or not at all.
_ENVELOPE = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "hash"}
)


def iso(moment: datetime) -> str:
    return moment.isoformat()


# The real datetime class, held in a tuple: a test's clock patcher (freezegun) replaces
# module attributes that are datetime, and would make the check below always pass.
_REAL_DATETIME = (datetime,)


def _exact(value: Any) -> Any:
    """A datetime subclass (a test's frozen clock, another library's type) as a plain
    datetime, which the store knows how to encode."""
    if isinstance(value, datetime) and type(value) is not _REAL_DATETIME[0]:
        return _REAL_DATETIME[0](
            value.year, value.month, value.day, value.hour, value.minute, value.second,
            value.microsecond, value.tzinfo, fold=value.fold,
        )  # fmt: skip
    return value


def times_from_text(state: dict[str, Any], *names: str) -> None:
    """Upcast: the named fields of an event stored before class version 2 hold ISO 8601
    text; from version 2 on they are datetimes."""
    for name in names:
        if isinstance(state.get(name), str):
            state[name] = datetime.fromisoformat(state[name])


def event_fields(event: object) -> dict[str, Any]:
    """The fields of an event that the proof hash covers (all but the envelope)."""
    return {
        f.name: getattr(event, f.name)
        for f in dataclasses.fields(event)  # type: ignore[arg-type]
        if f.name not in _ENVELOPE
    }


class ChainedAggregate(Aggregate):
    class Event(Aggregate.Event):
        hash: str

        def apply(self, aggregate: Any) -> None:
            aggregate.proof_head = self.hash
            aggregate.last_event = type(self)

    class Created(Aggregate.Created):
        hash: str

        def apply(self, aggregate: Any) -> None:
            aggregate.proof_head = self.hash
            aggregate.last_event = type(self)

    proof_head = GENESIS
    last_event: type[Aggregate.Event] | None = None

    @classmethod
    def _chain_create(
        cls, event_class: type[Created], aggregate_id: uuid.UUID, now: datetime, **fields: Any
    ) -> Self:
        fields = {key: _exact(value) for key, value in fields.items()}
        digest = event_hash(
            str(aggregate_id), 1, event_class.__name__, iso(now), fields, GENESIS, checked=True
        )
        return cls._create(event_class, id=aggregate_id, timestamp=now, hash=digest, **fields)

    def _chain(self, event_class: type[Event], now: datetime, **fields: Any) -> None:
        fields = {key: _exact(value) for key, value in fields.items()}
        seq = self.version + 1
        digest = event_hash(
            str(self.id), seq, event_class.__name__, iso(now), fields, self.proof_head,
            checked=True,
        )  # fmt: skip
        self.trigger_event(event_class, timestamp=now, hash=digest, **fields)
