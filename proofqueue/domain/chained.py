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
from eventsourcing.utils import get_topic

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


_new = object.__new__
_set = object.__setattr__
# Each creation event class: its fields in declaration order, and those not the envelope's.
_CREATION_FIELDS: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {}


def _creation_fields(event_class: type) -> tuple[tuple[str, ...], frozenset[str]]:
    found = _CREATION_FIELDS.get(event_class)
    if found is None:
        names = tuple(f.name for f in dataclasses.fields(event_class))
        found = _CREATION_FIELDS[event_class] = (names, frozenset(names) - _ENVELOPE)
    return found


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
        """The new aggregate and its creation event, as eventsourcing's ``_create`` makes
        them (the same event, attribute for attribute and in the same order; the same
        aggregate), without its generic steps: the event's dataclass checks and the
        creation's look-ups of topics and method signatures. Any other set of fields than
        the event declares goes through ``_create`` (which names what is wrong)."""
        fields = {key: _exact(value) for key, value in fields.items()}
        digest = event_hash(
            str(aggregate_id), 1, event_class.__name__, iso(now), fields, GENESIS, checked=True
        )
        names, own = _creation_fields(event_class)
        if fields.keys() != own or getattr(cls, "TOPIC", None):
            return cls._create(event_class, id=aggregate_id, timestamp=now, hash=digest, **fields)
        fields["originator_id"] = aggregate_id
        fields["originator_version"] = cls.INITIAL_VERSION
        fields["timestamp"] = now
        fields["originator_topic"] = get_topic(cls)
        fields["hash"] = digest
        event = _new(event_class)
        _set(event, "__dict__", {name: fields[name] for name in names})
        aggregate = _new(cls)
        aggregate.__base_init__(aggregate_id, cls.INITIAL_VERSION, now)
        aggregate.__init__()  # type: ignore[misc]
        event.apply(aggregate)
        aggregate.pending_events.append(event)
        return aggregate

    def _chain(self, event_class: type[Event], now: datetime, **fields: Any) -> None:
        fields = {key: _exact(value) for key, value in fields.items()}
        seq = self.version + 1
        digest = event_hash(
            str(self.id), seq, event_class.__name__, iso(now), fields, self.proof_head,
            checked=True,
        )  # fmt: skip
        self.trigger_event(event_class, timestamp=now, hash=digest, **fields)
