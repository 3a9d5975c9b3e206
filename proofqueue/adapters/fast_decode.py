"""The strict mapper's fast path: the usual stored event decoded in one pass, to exactly
the event the general path (``StrictMapper``) gives, or None whenever anything is
unusual, and the general path then gives the event or names the damage.

Usual means: a UUID originator id; a JSON object (parsed by msgspec when installed, which
reads every value as the standard library does and refuses what it would read otherwise:
NaN, infinities, lone surrogates) whose only typed values (``{"_type_": "datetime_iso",
"_data_": ...}``) are the datetimes of the fields the class declares as datetimes (no
``\\u`` escape could spell another ``"_type_"``); the class's own version; and a shape
(class, field names and value types) that the full check passed before, each datetime
with a time zone and a creation naming its own class. Every other check of the strict
mapper depends on those types alone.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import StoredEvent

_loads: Callable[[bytes], Any]
try:  # a faster parser of the same JSON, when installed (the ``fast`` extra)
    from msgspec.json import decode as _loads
except ImportError:  # pragma: no cover  (the standard library's parser)
    _loads = json.loads

# (class, field names, value types) of shapes the full check passed -> the fields that
# held datetimes.
_GOOD: dict[tuple[Any, ...], tuple[str, ...]] = {}
# The real datetime class, held in a tuple (a test's clock patcher replaces module
# attributes that are datetime).
_DATETIME = (datetime,)
_fromisoformat = datetime.fromisoformat
_new = object.__new__
_set = object.__setattr__


class Plan(NamedTuple):
    """What decoding a topic's events needs, worked out once."""

    cls: Any
    times: tuple[str, ...]  # the fields declared as datetimes
    class_version: int
    owner: str  # the topic of the aggregate class, as a creation names it


def plan(cls: Any, class_version: int) -> Plan:
    hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
    times = tuple(
        name
        for name, hint in hints.items()
        if hint is datetime or datetime in typing.get_args(hint)
    )
    owner = f"{cls.__module__}:{cls.__qualname__.rsplit('.', 1)[0]}"
    return Plan(cls, times, class_version, owner)


def remember(cls: Any, state: dict[str, Any]) -> None:
    """Remember the shape of an event the full check passed."""
    if len(_GOOD) < 1000:  # a damaged log could show any number of shapes
        shape = (cls, *state, *map(type, state.values()))
        _GOOD[shape] = tuple(k for k, v in state.items() if isinstance(v, _DATETIME[0]))


def decode(found: Plan, stored: StoredEvent) -> Any | None:
    """The event ``stored`` holds, or None (the general path decides)."""
    cls, names, class_version, owner = found
    key = stored.originator_id
    if type(key) is not UUID:
        return None
    data = stored.state
    if b"\\u" in data:
        return None
    try:
        state = _loads(data)
    except Exception:  # the general path names the damage
        return None
    if type(state) is not dict:
        return None
    typed = data.count(b'"_type_"')
    for name in names:
        value = state.get(name)
        if type(value) is dict:
            if len(value) != 2 or value.get("_type_") != "datetime_iso":
                return None
            text = value.get("_data_")
            if type(text) is not str:
                return None
            try:
                state[name] = _fromisoformat(text)
            except ValueError:
                return None
            typed -= 1
    if typed:
        return None
    version = state.pop("class_version", 1)
    if version != class_version or type(version) is not int:
        return None
    state["originator_id"] = key
    state["originator_version"] = stored.originator_version
    times = _GOOD.get((cls, *state, *map(type, state.values())))
    if times is None:
        return None
    for name in times:
        if state[name].tzinfo is None:
            return None
    if "originator_topic" in state and state["originator_topic"] != owner:
        return None
    event = _new(cls)
    _set(event, "__dict__", state)
    return event
