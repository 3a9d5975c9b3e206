"""The event-sourced log: one eventsourcing Application holding every intent and breaker.

One application per store on purpose: eventsourcing's SQLite tables are not named per
application, so two applications in one file would share one event sequence.

Reading is strict. The mapper refuses an event whose stored state does not decode to
exactly the fields its class declares, of the declared types (``DamagedEvent``, naming
the aggregate and the position): a flipped byte must not become an event that decodes
into something half-made. Loading an intent or a breaker also recomputes the proof chain
of the events it applies (each once per process: the aggregate cache keeps the rest), so
an event edited, reordered or moved from another aggregate is named the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import types
import typing
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import datetime
from functools import cache
from typing import Any, cast

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import Environment, EnvType, resolve_topic

from proofqueue.domain.breaker_log import BreakerLog, breaker_id
from proofqueue.domain.chained import ChainedAggregate, event_fields
from proofqueue.domain.errors import IntentNotFound, TrailDamaged
from proofqueue.domain.intent import Intent, intent_id
from proofqueue.domain.proof import GENESIS, event_hash
from proofqueue.domain.transparency_log import TransparencyLog, transparency_log_id


class DamagedEvent(ValueError):
    """A stored event that cannot be read back, or that breaks its aggregate's chain."""

    def __init__(self, originator_id: object, version: int, reason: str) -> None:
        self.originator_id = originator_id
        self.version = version
        self.reason = reason
        super().__init__(reason)


_OWN_EVENTS = (ChainedAggregate.Event, ChainedAggregate.Created)


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
    cls: Any = type(event)
    if not _own_event(cls):
        raise DamagedEvent(stored.originator_id, stored.originator_version, "not an event")
    state = vars(event)
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
    if "originator_topic" in state:  # a creation names its aggregate's class (not hashed)
        owner = f"{cls.__module__}:{cls.__qualname__.rsplit('.', 1)[0]}"
        if state["originator_topic"] != owner:
            raise DamagedEvent(
                stored.originator_id, stored.originator_version, "originator_topic is damaged"
            )


class StrictMapper(Mapper[uuid.UUID]):
    """The default mapper, plus: any failure to decode, or a decoded event that is not
    exactly what its class declares, raises DamagedEvent."""

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        key = stored_event.originator_id
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
        if type(transcoder) is JSONTranscoder:
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


def _reason(exc: BaseException) -> str:
    """A short, one-line reason (eventsourcing's messages repeat the whole header)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if ": " in text and text.startswith("Failed to deserialise"):
        text = "cannot decode its state: " + text.rsplit(": ", 1)[-1]
    return text[:200]


def _chain_checked(
    owner: type[ChainedAggregate],
) -> Callable[[Any, Iterable[Any]], Any]:
    """A projector function for the repository: apply events in order, recomputing each
    one's hash against the aggregate's proof head first."""

    def project(aggregate: Any, events: Iterable[Any]) -> Any:
        for event in events:
            seq = (aggregate.version if aggregate is not None else 0) + 1
            key = event.originator_id
            if event.originator_version != seq:
                raise DamagedEvent(
                    key, seq, f"expected event {seq}, found {event.originator_version}"
                )
            if not type(event).__qualname__.startswith(owner.__name__ + "."):
                raise DamagedEvent(key, seq, f"a {type(event).__qualname__} event is foreign here")
            prev = aggregate.proof_head if aggregate is not None else GENESIS
            recomputed = event_hash(
                str(key), seq, type(event).__name__, event.timestamp.isoformat(),
                event_fields(event), prev,
            )  # fmt: skip
            if recomputed != event.hash:
                raise DamagedEvent(key, seq, "hash does not match its content and predecessor")
            try:
                aggregate = event.mutate(aggregate)
            except Exception as exc:  # a well-formed event that cannot apply: damage
                raise DamagedEvent(key, seq, f"cannot be applied: {_reason(exc)}") from None
        return aggregate

    return project


class IntentLog(Application[Any]):
    name = "proofqueue"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the settings proofqueue gives, never the process environment: eventsourcing
        would otherwise read PROOFQUEUE_CIPHER_KEY (this application's name + CIPHER_KEY) as
        its own cipher key, and stray variables like PERSISTENCE_MODULE as its store."""
        return Environment(name, dict(env or {}))

    def construct_recorder(self) -> Any:
        """eventsourcing's recorder; on SQLite, a stored originator id that is not a UUID
        (a damaged row) is handed on as its text, so that one such row is named as a
        damaged event instead of making every page of the log that holds it unreadable."""
        recorder = super().construct_recorder()
        convert = getattr(recorder, "convert_originator_id", None)
        if callable(convert):

            def tolerant(originator_id: str) -> object:
                try:
                    return convert(originator_id)
                except (ValueError, TypeError, AttributeError):
                    return originator_id

            setattr(recorder, "convert_originator_id", tolerant)  # noqa: B010
        return recorder

    def construct_mapper(self) -> Mapper[Any]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=StrictMapper
        )

    def _load(self, key: uuid.UUID, owner: type[ChainedAggregate], name: str) -> Any:
        """The aggregate ``key``, every event checked; TrailDamaged names the first bad one
        and carries the aggregate as of the event before it (``last_good``)."""
        try:
            return self.repository.get(key, projector_func=_chain_checked(owner))
        except DamagedEvent as exc:
            damaged = TrailDamaged(name, exc.reason, exc.version)
        except AggregateNotFoundError:
            raise
        except Exception as exc:  # the store answered something unreadable
            damaged = TrailDamaged(name, _reason(exc))
        if damaged.seq is not None and damaged.seq > 1:
            with contextlib.suppress(Exception):  # no good prefix: nothing to carry
                damaged.last_good = self.repository.get(
                    key, version=damaged.seq - 1, projector_func=_chain_checked(owner)
                )
        raise damaged

    def by_aggregate(self, page: int = 1000) -> Iterator[StoredEvent]:
        """Every stored event, each aggregate's together in version order (aggregates in
        id order), read a page at a time by key: memory stays flat however long the log."""
        recorder: Any = self.recorder
        postgres = hasattr(recorder.datastore, "schema")
        if postgres:
            from psycopg import sql

            table: Any = sql.SQL("{}.{}").format(
                sql.Identifier(recorder.datastore.schema),
                sql.Identifier(recorder.events_table_name),
            )
            statement: Any = sql.SQL(
                "SELECT originator_id, originator_version, topic, state FROM {}"
                " WHERE (originator_id, originator_version) > (%s, %s)"
                " ORDER BY originator_id, originator_version LIMIT %s"
            ).format(table)
            after: tuple[Any, int] = (uuid.UUID(int=0), 0)
            first = "SELECT originator_id, originator_version, topic, state FROM {} ORDER BY"
            opening: Any = sql.SQL(first + " originator_id, originator_version LIMIT %s")
            opening = opening.format(table)
        else:
            name = recorder.events_table_name
            statement = (
                f"SELECT originator_id, originator_version, topic, state FROM {name}"  # noqa: S608  (eventsourcing's table name)
                " WHERE (originator_id, originator_version) > (?, ?)"
                " ORDER BY originator_id, originator_version LIMIT ?"
            )
            opening = (
                f"SELECT originator_id, originator_version, topic, state FROM {name}"  # noqa: S608
                " ORDER BY originator_id, originator_version LIMIT ?"
            )
            after = ("", 0)
        convert = getattr(recorder, "convert_originator_id", lambda value: value)
        started = False
        while True:
            with recorder.datastore.transaction(commit=False) as cursor:
                if started:
                    cursor.execute(statement, (*after, page))
                else:
                    cursor.execute(opening, (page,))
                rows = cursor.fetchall()
            started = True
            for row in rows:
                yield StoredEvent(
                    originator_id=convert(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
            if len(rows) < page:
                return
            after = (rows[-1]["originator_id"], rows[-1]["originator_version"])

    def intent(self, request_id: str) -> Intent:
        try:
            found: Any = self._load(intent_id(request_id), Intent, request_id)
        except AggregateNotFoundError:
            raise IntentNotFound(request_id) from None
        if not isinstance(found, Intent):
            raise IntentNotFound(request_id)
        return found

    # Where a breaker not loaded yet in this process starts from (the views' state row),
    # or None: set by the composition root.
    breaker_seed: Callable[[uuid.UUID], BreakerLog | None] | None = None

    def _seeded(self, key: uuid.UUID) -> None:
        """Put a breaker this process has not loaded yet into the aggregate cache from its
        seed and the events after it (chain-checked), so it is never read whole. Any
        trouble leaves it out: the full load then names what is wrong."""
        seed_from, cache = self.breaker_seed, self.repository.cache
        if seed_from is None or cache is None:
            return
        try:
            cache.get(key)
            return  # loaded already: the repository reads only the events after it
        except KeyError:
            pass
        try:
            seed = seed_from(key)
            if seed is None:
                return
            later = self.repository.event_store.get(originator_id=key, gt=seed.version)
            aggregate = _chain_checked(BreakerLog)(seed, later)
        except Exception:
            return
        cache.put(key, aggregate)

    def breaker_log(self, vendor: str) -> BreakerLog | None:
        """The breaker of ``vendor``, or None before its first transition. TrailDamaged
        (named ``breaker of <vendor>``) when one of its events is damaged."""
        self._seeded(breaker_id(vendor))
        try:
            found: object = self._load(breaker_id(vendor), BreakerLog, f"breaker of {vendor}")
        except AggregateNotFoundError:
            return None
        if not isinstance(found, BreakerLog):
            raise TrailDamaged(f"breaker of {vendor}", "its id names another aggregate")
        return found

    def transparency_log(self, origin: str) -> TransparencyLog | None:
        """The checkpoints of the log named ``origin``, or None before the first."""
        try:
            found: object = self._load(
                transparency_log_id(origin), TransparencyLog, f"transparency log {origin}"
            )
        except AggregateNotFoundError:
            return None
        if not isinstance(found, TransparencyLog):
            raise TrailDamaged(f"transparency log {origin}", "its id names another aggregate")
        return found
