"""The strict mapper's fast path: the usual stored event decoded and type-checked in one
pass by msgspec (the ``fast`` extra), to exactly the event the general path
(``StrictMapper``) gives, or None whenever anything is unusual, and the general path then
gives the event or names the damage. Without msgspec there is no fast path.

Each event class gets a msgspec Struct of its declared fields, of the types the strict
check accepts (``float`` as ``int | float``: JSON's ``1`` stays the int 1), every field
required and no other allowed, each datetime as the transcoder's typed value
(``{"_type_": "datetime_iso", "_data_": ...}``), ``class_version`` the class's own. Usual
also means: a UUID originator id and a stored version that is an int; no ``\\u`` escape
(one could spell ``"_type_"`` or a lone surrogate); ``"_type_"`` appearing in the bytes
exactly once per typed value of a datetime field (a typed value anywhere else the general
path turns into another object); each time with a time zone (read by
``datetime.fromisoformat``, as the transcoder reads it); and a creation naming its own
aggregate's class. The event's fields come in the class's order (the order the log writes
them in; a state listing them in another order gives the same fields and values), then
``originator_id`` and ``originator_version``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any, Literal, NamedTuple
from uuid import UUID

from eventsourcing.persistence import StoredEvent

try:  # the ``fast`` extra
    import msgspec
except ImportError:  # pragma: no cover  (the general path only)
    msgspec = None  # type: ignore[assignment]

# The real datetime class, held in a tuple (a test's clock patcher replaces module
# attributes that are datetime).
_DATETIME = (datetime,)
_fromisoformat = datetime.fromisoformat
_new = object.__new__
_set = object.__setattr__
_NOT_STORED = ("originator_id", "originator_version")  # the stored event's own columns


class Plan(NamedTuple):
    """What decoding a topic's events needs, worked out once."""

    cls: Any
    decode: Any  # msgspec's decoder of the class's Struct
    asdict: Any  # msgspec.structs.asdict
    times: tuple[str, ...]  # the fields declared as datetimes (or None)
    owner: str | None  # a creation: the topic of its aggregate class, as it must name it


if msgspec is not None:

    class _Time(msgspec.Struct, forbid_unknown_fields=True):
        """The transcoder's typed value of a datetime."""

        kind: Literal["datetime_iso"] = msgspec.field(name="_type_")
        text: str = msgspec.field(name="_data_")


def _field_type(hint: Any) -> Any | None:
    """The msgspec type accepting exactly what the strict check accepts for ``hint`` (as
    decoded from JSON without typed values), or None when there is none here."""
    if hint is Any:
        return Any
    if hint is _DATETIME[0]:
        return _Time
    if hint in (str, int, bool):
        return hint
    if hint is float:
        return int | float
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if len(args) == 2 and type(None) in args:
            (inner,) = (arg for arg in args if arg is not type(None))
            found = _field_type(inner)
            return None if found is None else found | None
        return None
    if hint is dict or (origin is dict and typing.get_args(hint) in ((), (str, Any))):
        return dict[str, Any]
    return None


def plan(cls: Any, class_version: int) -> Plan | None:
    """The plan for ``cls`` (None when msgspec is missing or a field's type has no
    exact msgspec spelling: the general path decodes it)."""
    if msgspec is None or not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
        return None
    hints = typing.get_type_hints(cls)
    fields: list[tuple[str, Any]] = []
    times = []
    for name in (f.name for f in dataclasses.fields(cls)):
        if name in _NOT_STORED:
            continue
        hint = hints.get(name, Any)
        kind = _field_type(hint)
        if kind is None or name == "class_version":
            return None
        if hint is _DATETIME[0] or _DATETIME[0] in typing.get_args(hint):
            times.append(name)
        fields.append((name, kind))
    version: Any = Literal[class_version]
    # required, unless the class is at version 1 (which the log may leave unwritten)
    fields.append(("class_version", version, *([1] if class_version == 1 else [])))
    shape = msgspec.defstruct(f"_{cls.__name__}", fields, forbid_unknown_fields=True)
    creation = any(field[0] == "originator_topic" for field in fields)
    owner = f"{cls.__module__}:{cls.__qualname__.rsplit('.', 1)[0]}" if creation else None
    return Plan(
        cls, msgspec.json.Decoder(shape).decode, msgspec.structs.asdict, tuple(times), owner
    )


def decode(found: Plan, stored: StoredEvent) -> Any | None:
    """The event ``stored`` holds, or None (the general path decides)."""
    cls, parse, asdict, times, owner = found
    key = stored.originator_id
    version = stored.originator_version
    if type(key) is not UUID or type(version) is not int:  # else damage the general path names
        return None
    data = stored.state
    if b"\\u" in data:
        return None
    try:
        state = asdict(parse(data))
    except Exception:  # the general path names the damage
        return None
    typed = data.count(b'"_type_"')
    for name in times:
        value = state[name]
        if value is not None:
            try:
                time = _fromisoformat(value.text)
            except ValueError:
                return None
            if time.tzinfo is None:
                return None
            state[name] = time
            typed -= 1
    if typed:
        return None
    del state["class_version"]
    if owner is not None and state["originator_topic"] != owner:
        return None
    state["originator_id"] = key
    state["originator_version"] = version
    event = _new(cls)
    _set(event, "__dict__", state)
    return event
