"""The fast path (``fast_decode``: one msgspec Struct per event class) against the general
path, for every event class the domain has, on generated stored states: right values,
wrong ones, typed values anywhere, fields missing or extra, keys in any order, damaged
bytes, odd versions. The same event (the same fields and values), or the same damage named
the same way."""

from __future__ import annotations

import dataclasses
import json
import typing
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue.adapters import fast_decode
from proofqueue.adapters import mapper as strict
from proofqueue.adapters.mapper import StrictMapper
from proofqueue.domain.breaker_log import BreakerLog
from proofqueue.domain.intent import Intent
from proofqueue.domain.transparency_log import TransparencyLog
from tests.unit.test_mapper_fast import _mapper, _values

CLASSES = [  # the domain's own events
    cls
    for owner in (Intent, BreakerLog, TransparencyLog)
    for cls in vars(owner).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__qualname__.count(".")
]
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


_zones = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
_times = st.datetimes(timezones=_zones).map(lambda t: t.isoformat())
_aware = st.datetimes(timezones=_zones.filter(bool)).map(lambda t: t.isoformat())
_typed = st.one_of(_times, st.sampled_from(["soon", "2026-01-01", "2026-01-01T00:00:00Z"])).map(
    lambda text: {"_type_": "datetime_iso", "_data_": text}
)


def _right(hint: Any, clean: bool) -> st.SearchStrategy[Any]:
    if hint is datetime:
        return (_aware if clean else _times).map(
            lambda text: {"_type_": "datetime_iso", "_data_": text}
        )
    if hint is str:
        return st.text(max_size=5)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-(2**70), 2**70)
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(-9, 9)
    args = typing.get_args(hint)
    if type(None) in args:
        (inner,) = (arg for arg in args if arg is not type(None))
        return st.none() | _right(inner, clean)
    return st.dictionaries(st.text(max_size=3), _values | _typed, max_size=3)


@st.composite
def _stored(draw: st.DrawFn) -> tuple[StoredEvent, bool]:
    """A stored state of some class, and whether its keys are in the class's order."""
    cls = draw(st.sampled_from(CLASSES))
    hints = typing.get_type_hints(cls)
    clean = draw(st.booleans())  # every field of the declared type, the usual versions
    state: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in ("originator_id", "originator_version"):
            continue
        if field.name == "originator_topic":
            owner = f"{cls.__module__}:{cls.__qualname__.rsplit('.', 1)[0]}"
            state[field.name] = owner if clean else draw(st.sampled_from([owner, owner + "x"]))
            continue
        choice = 2 if clean else draw(st.integers(0, 9))
        if choice == 0:
            continue  # missing
        wrong = st.one_of(_values, _typed)
        state[field.name] = draw(wrong if choice == 1 else _right(hints[field.name], clean))
    if not clean and draw(st.booleans()):
        state[draw(st.sampled_from(["extra", "_type_", "originator_id"]))] = draw(_values)
    version = getattr(cls, "class_version", 1)
    state["class_version"] = (
        version if clean else draw(st.sampled_from([version, 1, 3, "2", True, None, 2.0]))
    )
    if state["class_version"] is None:
        del state["class_version"]
    ordered = True
    if draw(st.integers(0, 9)) == 0:
        keys = draw(st.permutations(list(state)))
        ordered = keys == list(state)
        state = {key: state[key] for key in keys}
    data = json.dumps(state, ensure_ascii=draw(st.booleans()), separators=(",", ":")).encode()
    if not clean and draw(st.booleans()):  # a byte changed
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    stored_version = 7 if clean else draw(st.sampled_from([1, 7, 0, True]))
    return StoredEvent(ID, stored_version, _topic(cls), data), ordered


def _outcome(mapper: StrictMapper, stored: StoredEvent) -> tuple[str, Any]:
    try:
        event = mapper.to_domain_event(stored)
    except strict.DamagedEvent as exc:
        return "damaged", exc.reason
    return type(event).__name__, vars(event)


@given(_stored())
@settings(max_examples=400, deadline=None)
def test_the_fast_path_gives_the_general_paths_event_or_damage(
    drawn: tuple[StoredEvent, bool],
) -> None:
    stored, ordered = drawn
    fast = _outcome(_mapper(), stored)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(StrictMapper, "_plan", lambda self, topic: None)
        slow = _outcome(_mapper(), stored)
    assert fast == slow
    if ordered:  # the fields in the same order too
        assert repr(fast) == repr(slow)


def test_every_event_class_has_a_fast_path() -> None:
    """Each class's declared types have an exact msgspec spelling (else it would be
    decoded by the general path only: slower, not wrong)."""
    for cls in CLASSES:
        assert fast_decode.plan(cls, getattr(cls, "class_version", 1)) is not None, cls
