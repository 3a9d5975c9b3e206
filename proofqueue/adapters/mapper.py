"""The strict mapper: a stored event decodes to exactly the fields its class declares, of
the declared types, or it is a ``DamagedEvent`` naming the aggregate and the position (a
flipped byte must not become an event that decodes into something half-made).

Decoding is eventsourcing's, with the per-event work done once where it can be: each
topic's class, id convertor and class version are looked up once, the type check of each
declared field is compiled once per class, and the JSON hook for typed values is leaner
(the same values, the same errors).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
import uuid
from collections.abc import Callable, Hashable
from datetime import datetime
from functools import cache
from typing import Any, cast

from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from proofqueue.adapters import fast_decode, fast_encode
from proofqueue.domain.chained import ChainedAggregate
from proofqueue.domain.version import BadVersion


def stored_bytes(state: object) -> bytes | None:
    """A stored state as bytes: SQLite gives TEXT back as ``str`` (its string functions,
    ``replace`` for one, turn a BLOB into TEXT) and a memoryview or bytearray as they are;
    None when it holds no bytes at all (NULL, a number)."""
    if type(state) is bytes:
        return state
    if isinstance(state, str):
        return state.encode("utf-8", "surrogatepass")
    if isinstance(state, bytearray | memoryview):
        return bytes(state)
    return None


class DamagedEvent(ValueError):
    """A stored event that cannot be read back, or that breaks its aggregate's chain."""

    def __init__(self, originator_id: object, version: int, reason: str) -> None:
        self.originator_id = originator_id
        self.version = version
        self.reason = reason
        super().__init__(reason)


_OWN_EVENTS = (ChainedAggregate.Event, ChainedAggregate.Created)
# eventsourcing's JSON transcoder, and the log's (the same JSON, written faster).
_JSON = (JSONTranscoder, fast_encode.Transcoder)


@cache
def _hints(cls: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    return {name: hints.get(name, Any) for name in names}


@cache
def _checker(hint: Any) -> Callable[[object], bool]:
    """Whether a decoded value has the declared type (as far as JSON can carry it), as a
    function of the value worked out once per hint."""
    if hint is Any:
        return lambda value: True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        options = tuple(_checker(arg) for arg in args if arg is not type(None))
        if len(options) == 1 and len(args) == 2:  # X | None
            only = options[0]
            return lambda value: value is None or only(value)
        every = tuple(_checker(arg) for arg in args)
        return lambda value: any(check(value) for check in every)
    if hint is type(None):
        return lambda value: value is None
    kind = origin if origin is not None else hint
    if not isinstance(kind, type):
        return lambda value: True
    if kind is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if kind is datetime:
        return lambda value: isinstance(value, datetime) and value.tzinfo is not None
    if kind is str:
        return lambda value: type(value) is str or isinstance(value, str)
    if kind is dict:
        return lambda value: type(value) is dict or isinstance(value, dict)
    return lambda value: isinstance(value, kind)


@cache
def _plan(cls: type) -> tuple[frozenset[str], tuple[tuple[str, Callable[[object], bool]], ...]]:
    hints = _hints(cls)
    return frozenset(hints), tuple((name, _checker(hint)) for name, hint in hints.items())


@cache
def _own_event(cls: type) -> bool:
    return issubclass(cls, _OWN_EVENTS) and dataclasses.is_dataclass(cls)


def check_shape(event: object, stored: StoredEvent) -> None:
    """Raise DamagedEvent unless ``event`` holds exactly its class's fields, typed."""
    _check_shape(type(event), vars(event), stored)


@cache
def _owner(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__.rsplit('.', 1)[0]}"


def _check_shape(cls: Any, state: dict[str, Any], stored: StoredEvent) -> None:
    if not _own_event(cls):
        raise DamagedEvent(stored.originator_id, stored.originator_version, "not an event")
    names, checks = _plan(cls)
    if state.keys() != names:
        missing = sorted(names - set(state))
        extra = sorted(set(state) - names)
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unknown {', '.join(extra)}"] if extra else []
        raise DamagedEvent(stored.originator_id, stored.originator_version, "; ".join(parts))
    for name, fits in checks:
        if not fits(state[name]):
            raise DamagedEvent(
                stored.originator_id,
                stored.originator_version,
                f"field {name} holds a {type(state[name]).__name__}",
            )
    if not isinstance(state["originator_id"], uuid.UUID):
        raise DamagedEvent(stored.originator_id, stored.originator_version, "bad originator id")
    # a creation names its aggregate's class (not hashed)
    if "originator_topic" in state and state["originator_topic"] != _owner(cls):
        raise DamagedEvent(
            stored.originator_id, stored.originator_version, "originator_topic is damaged"
        )


class StrictMapper(Mapper[uuid.UUID]):
    """The default mapper, plus: any failure to decode, or a decoded event that is not
    exactly what its class declares, raises DamagedEvent."""

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if type(stored_event.state) is not bytes:
            stored_event = _with_bytes(stored_event)
        plans: dict[str, fast_decode.Plan | None] | None = self.__dict__.get("_plans")
        topic = stored_event.topic
        found = plans[topic] if plans is not None and topic in plans else self._plan(topic)
        if found is not None:
            event = fast_decode.decode(found, stored_event)
            if event is not None:
                return event
        key = stored_event.originator_id
        if type(stored_event.originator_version) is not int:  # no position (versions.py)
            bad = BadVersion(stored_event.originator_version)
            raise DamagedEvent(key, bad, bad.reason)
        if not isinstance(key, uuid.UUID):
            try:
                uuid.UUID(str(key))
            except ValueError:
                raise DamagedEvent(
                    key, stored_event.originator_version, "its originator id is not an aggregate id"
                ) from None
        try:
            event = self._decode(stored_event)
            check_shape(event, stored_event)
        except DamagedEvent:
            raise
        except Exception as exc:  # any failure to decode is damage, named by position
            raise DamagedEvent(
                stored_event.originator_id, stored_event.originator_version, _reason(exc)
            ) from None
        return event

    def _plan(self, topic: str) -> fast_decode.Plan | None:
        """The fast path's plan for a topic (once per topic); None where it does not apply:
        another transcoder, a cipher or compressor, a topic that names no class."""
        plans: dict[str, fast_decode.Plan | None] = self.__dict__.setdefault("_plans", {})
        if topic in plans:
            return plans[topic]
        found = None
        names = getattr(self.transcoder, "names", {})
        usable = type(self.transcoder) in _JSON and not self.cipher
        if usable and not self.compressor and type(names.get("datetime_iso")) is DatetimeAsISO:
            try:
                cls, _, class_version = self._topic(topic, uuid.UUID)
                if _own_event(cls):  # anything else is "not an event"
                    found = fast_decode.plan(cls, class_version)
            except Exception:  # the general path names the damage
                found = None
        if len(plans) < 1000:  # a damaged log could name any number of topics
            plans[topic] = found
        return found

    def _topic(self, topic: str, id_type: type) -> tuple[Any, Callable[[Any], Any], int]:
        """The class a topic names, its id convertor and class version (once per topic)."""
        topics: dict[tuple[str, type], tuple[Any, Callable[[Any], Any], int]]
        topics = self.__dict__.setdefault("_topics", {})
        found = topics.get((topic, id_type))
        if found is None:
            cls = resolve_topic(topic)
            found = (
                cls,
                find_id_convertor(cls, cast(Hashable, id_type)),
                getattr(cls, "class_version", 1),
            )
            if len(topics) < 1000:  # a damaged log could name any number of topics
                topics[(topic, id_type)] = found
        return found

    def _json(self) -> json.JSONDecoder | None:
        """The transcoder's JSON decoding with a leaner hook for its typed values (the
        same values, the same errors); None for any other transcoder (used as it is)."""
        if "_decoder" in self.__dict__:
            found: json.JSONDecoder | None = self.__dict__["_decoder"]
            return found
        transcoder = self.transcoder
        found = None
        if type(transcoder) in _JSON and isinstance(transcoder, JSONTranscoder):
            names = transcoder.names
            iso = type(names.get("datetime_iso")) is DatetimeAsISO
            slow = transcoder._decode_obj

            def hook(d: dict[str, Any]) -> Any:
                if len(d) == 2 and "_type_" in d and "_data_" in d:
                    kind = d["_type_"]
                    if iso and kind == "datetime_iso" and type(d["_data_"]) is str:
                        return datetime.fromisoformat(d["_data_"])
                    if kind in names:
                        return names[kind].decode(d["_data_"])
                    return slow(d)
                return d

            found = json.JSONDecoder(object_hook=hook)
        self.__dict__["_decoder"] = found
        return found

    def _decode(self, stored_event: StoredEvent) -> Any:
        """eventsourcing's ``Mapper.to_domain_event``, refusing a class version newer than
        the class (the stored version number is not covered by the proof hash)."""
        cls, convert, class_version = self._topic(
            stored_event.topic, type(stored_event.originator_id)
        )
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        decoder = self._json()
        if decoder is None:
            event_state: dict[str, Any] = self.transcoder.decode(state)
        else:
            event_state = decoder.decode(state.decode("utf8"))
        if not isinstance(event_state, dict):
            raise DamagedEvent(
                stored_event.originator_id, stored_event.originator_version, "not an object"
            )
        event_state["originator_id"] = convert(stored_event.originator_id)
        event_state["originator_version"] = stored_event.originator_version
        from_version = event_state.pop("class_version", 1)
        if type(from_version) is not int or not 1 <= from_version <= class_version:
            raise DamagedEvent(
                stored_event.originator_id,
                stored_event.originator_version,
                f"class version {from_version!r} is not one this code knows",
            )
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", event_state)
        return event


def _with_bytes(stored: StoredEvent) -> StoredEvent:
    state = stored_bytes(stored.state)
    if state is None:
        raise DamagedEvent(
            stored.originator_id,
            stored.originator_version,
            "its state is missing (NULL or not bytes)",
        )
    return StoredEvent(stored.originator_id, stored.originator_version, stored.topic, state)


def _reason(exc: BaseException) -> str:
    """A short, one-line reason (eventsourcing's messages repeat the whole header)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if ": " in text and text.startswith("Failed to deserialise"):
        text = "cannot decode its state: " + text.rsplit(": ", 1)[-1]
    return text[:200]
