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
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import Mapper, Notification, Recording
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import Environment, EnvType

from proofqueue.adapters import fast_encode, loading, scan, sqlite_insert, versions
from proofqueue.adapters.mapper import DamagedEvent, StrictMapper, _reason, check_shape
from proofqueue.domain.breaker_log import BreakerLog, breaker_id
from proofqueue.domain.chained import ChainedAggregate, event_fields
from proofqueue.domain.errors import IntentNotFound, TrailDamaged
from proofqueue.domain.intent import Intent, intent_id
from proofqueue.domain.proof import GENESIS, event_hash
from proofqueue.domain.transparency_log import TransparencyLog, transparency_log_id

__all__ = ["DamagedEvent", "IntentLog", "StrictMapper", "check_shape"]


def _chain_checked(
    owner: type[ChainedAggregate], *, prefix: bool = False
) -> Callable[[Any, Iterable[Any]], Any]:
    """A projector function for the repository: apply events in order, recomputing each
    one's hash against the aggregate's proof head first.

    A row whose stored version is no position (``BadVersion``) cannot say where it stood:
    it is left out, and named at the position the trail misses (the first gap, or after
    its last event; ``prefix``: a load up to a version known good, where only a gap is)."""

    def project(aggregate: Any, events: Iterable[Any]) -> Any:
        unplaced: list[DamagedEvent] = []
        stream = versions.placed(events, unplaced)
        for event in stream:
            seq = (aggregate.version if aggregate is not None else 0) + 1
            key = event.originator_id
            if event.originator_version != seq:
                raise DamagedEvent(key, seq, versions.missing(seq, event, stream, unplaced))
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
        if unplaced and not prefix:
            seq = (aggregate.version if aggregate is not None else 0) + 1
            raise DamagedEvent(unplaced[0].originator_id, seq, unplaced[0].reason)
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
        (a damaged row) is handed on as its text, and a stored version that is no
        position as a ``BadVersion`` (``versions``), so that one such row is named as a
        damaged event instead of making every page of the log that holds it unreadable,
        and the events of a save go in with one statement (``sqlite_insert``)."""
        recorder = super().construct_recorder()
        versions.check_recorder(recorder)  # a damaged version: a BadVersion, named as such
        if isinstance(recorder, SQLiteApplicationRecorder):
            setattr(recorder, "_insert_events", sqlite_insert.chunked(recorder))  # noqa: B010
            insert = sqlite_insert.one_statement(recorder, recorder.insert_events)
            setattr(recorder, "insert_events", insert)  # noqa: B010
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
        return self.factory.mapper(transcoder=fast_encode.Transcoder(), mapper_class=StrictMapper)

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
                    key,
                    version=damaged.seq - 1,
                    projector_func=_chain_checked(owner, prefix=True),
                )
        raise damaged

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[Any]]:
        """``Application.save`` of proofqueue's aggregates, without its check of each
        object against runtime Protocols (tens of microseconds an object, a third of a
        group commit's CPU); anything else is saved by ``Application.save``."""
        if kwargs or not all(isinstance(obj, ChainedAggregate) for obj in objs):
            return super().save(*objs, **kwargs)
        return self._put([(obj, obj.collect_events()) for obj in objs])

    def _put(self, collected: Sequence[tuple[Any, Sequence[Any]]]) -> list[Recording[Any]]:
        """``Application.save`` of aggregates whose events are collected already."""
        processing: ProcessingEvent[Any] = ProcessingEvent()
        for aggregate, events in collected:
            processing.events.extend(events)
            processing.aggregates[aggregate.id] = aggregate
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def by_aggregate(self, page: int = 1000) -> Iterator[Notification]:
        """Every stored event with its notification id, each aggregate's together in
        version order, a page at a time (``scan.by_aggregate``): memory stays flat however
        long the log."""
        return scan.by_aggregate(self.recorder, page)

    def notification_ids(self) -> Iterator[int]:
        """Every notification id of the log, in order, a page at a time."""
        return scan.notification_ids(self.recorder)

    def events_at(self, ids: Sequence[int]) -> dict[int, tuple[str, int]]:
        """The (aggregate id, version) of the event at each of ``ids`` the log holds."""
        return scan.events_at(self.recorder, ids)

    def notification_of(self, aggregate_id: str, version: int) -> int | None:
        """The notification id of an aggregate's event ``version``; None when it is gone."""
        return scan.notification_of(self.recorder, aggregate_id, version)

    def intent(self, request_id: str) -> Intent:
        try:
            found: Any = self._load(intent_id(request_id), Intent, request_id)
        except AggregateNotFoundError:
            raise IntentNotFound(request_id) from None
        if not isinstance(found, Intent):
            raise IntentNotFound(request_id)
        return found

    def intents(self, request_ids: Sequence[str]) -> dict[str, Intent]:
        """The intents of ``request_ids`` read in one go (``loading.load_many``); one that
        is missing or damaged is left out (``intent`` names what is wrong with it)."""
        keys = {intent_id(request_id): request_id for request_id in request_ids}
        found = loading.load_many(self.recorder, self.mapper, _chain_checked(Intent), list(keys))
        return {keys[k]: a for k, a in found.items() if isinstance(a, Intent)}

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

    def breaker_version(self, vendor: str) -> int:
        """The version of the breaker of ``vendor`` in the log (0 before its first event),
        without loading it: a check that commits nothing."""
        return loading.last_version(self.recorder, breaker_id(vendor))

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
