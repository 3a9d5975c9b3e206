"""Rebuilding every view from the log into a new, throwaway store (``replay``).

The result is the live projection's, row for row: the same batches of the log's order, the
same decoding (the strict mapper), the same application (``apply_batch``), the same damage
named the same way, an event that cannot be applied isolated by applying its batch one
event at a time (``Projector._apply_singly``). What a rebuild saves is what only a new
store that nobody else writes allows:

- the log is read with one plain query per page, not through ``select_notifications``'
  objects (on SQLite; PostgreSQL's pages are its ``select_notifications``);
- each event's aggregate is spelled once, from the stored id;
- an aggregate whose first event in a batch is its event 1 has no head and no row yet
  (the log holds one event 1 per aggregate): neither is looked up;
- the damaged events recorded so far are looked up only once there are any;
- bigger batches, a bigger page cache, no fsync, the secondary indexes made once at the end
  (``finish``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, SafeUUID

from proofqueue.chaos import maybe_crash
from proofqueue.domain.version import MAX_VERSION
from proofqueue.domain.version import checked as checked_version
from proofqueue.projections import damage, order
from proofqueue.projections.batch import apply_batch
from proofqueue.projections.runner import NAME, Projector, _Moved
from proofqueue.projections.store import ViewDB, store_fault

BATCH = 10_000
CACHE_KIB = 8 * 1024  # 4x the default; more makes peak memory grow with the log
_HEX = re.compile(r"[0-9a-f]{32}")


class Note:
    """One stored event as ``select_notifications`` gives it, with its aggregate's key
    (``damage.aggregate_key`` of its originator id)."""

    __slots__ = ("id", "key", "originator_id", "originator_version", "state", "topic")

    def __init__(
        self, id: int, originator_id: Any, originator_version: int, topic: str, state: bytes
    ) -> None:
        self.id = id
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.topic = topic
        self.state = state
        self.key = damage.aggregate_key(originator_id)


def _sqlite_reader(recorder: Any) -> Callable[[int, int, int | None], list[Any]]:
    """Pages of the log as ``select_notifications`` reads them on SQLite (the same rows,
    the same converted ids), by one query each."""
    table = recorder.events_table_name
    columns = "rowid, originator_id, originator_version, topic, state"
    to = f"SELECT {columns} FROM {table} WHERE rowid >= ? AND rowid <= ? ORDER BY rowid LIMIT ?"  # noqa: S608  (eventsourcing's table name)
    open_ended = f"SELECT {columns} FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT ?"  # noqa: S608
    convert = recorder.convert_originator_id
    uuids = recorder.datastore.originator_id_type == "uuid"
    new = Note.__new__
    new_uuid, setattr_, unknown = object.__new__, object.__setattr__, SafeUUID.unknown

    def read(start: int, limit: int, stop: int | None) -> list[Any]:
        with recorder.datastore.transaction(commit=False) as cursor:
            raw = getattr(cursor, "sqlite_cursor", cursor)
            raw.row_factory = None  # plain tuples
            if stop is None:
                raw.execute(open_ended, (start, limit))
            else:
                raw.execute(to, (start, stop, limit))
            rows = raw.fetchall()
        notes = []
        for number, text, version, topic, state in rows:
            note = new(Note)
            note.id, note.originator_version, note.topic, note.state = number, version, topic, state
            if type(version) is not int or not 0 < version <= MAX_VERSION:  # a damaged row
                note.originator_version = checked_version(version)
            if uuids and type(text) is str and len(text) == 32 and _HEX.fullmatch(text):
                # UUID(text), as convert makes it, without its parsing of other spellings
                found = new_uuid(UUID)
                setattr_(found, "int", int(text, 16))
                setattr_(found, "is_safe", unknown)
                note.originator_id = found
                note.key = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
            else:
                note.originator_id = convert(text)
                note.key = damage.aggregate_key(note.originator_id)
            notes.append(note)
        return notes

    return read


def _reader(recorder: Any) -> Callable[[int, int, int | None], list[Any]]:
    if order.log_is_sqlite(recorder) and hasattr(recorder, "events_table_name"):
        return _sqlite_reader(recorder)

    def read(start: int, limit: int, stop: int | None) -> list[Any]:
        return [
            Note(n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in recorder.select_notifications(start=start, limit=limit, stop=stop)
        ]

    return read


class Rebuilder(Projector):
    """A ``Projector`` filling a new store that only it writes, from the whole log."""

    def __init__(
        self, recorder: Any, mapper: Any, db: ViewDB, *, as_of: datetime | None = None
    ) -> None:
        super().__init__(recorder, mapper, db, as_of=as_of, rebuild=True)
        self.batch = BATCH
        self._page = _reader(recorder)
        self._harmed = bool(db.query("SELECT 1 AS found FROM pq_damaged LIMIT 1"))

    def catch_up(
        self, stop: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Apply every event after the tracked position (up to ``stop``); return how many."""
        applied = 0
        while True:
            position, tail = self._mark()
            if stop is not None and position >= stop:
                return applied
            notes = self._page(max(position, 1), self.batch + 1, stop)
            notes, findings, last_tail = self._follow_tail(position, tail, notes)
            if not notes and not findings:
                return applied
            events, damaged = self._decode(notes)
            last = int(notes[-1].id) if notes else position
            try:
                self._apply(position, last, events, damaged, findings, last_tail)
            except _Moved:  # pragma: no cover  (nobody else writes this store)
                continue
            except Exception as exc:
                if store_fault(exc):
                    raise  # the throwaway store fails: no event is to blame
                # An event that decodes but cannot be applied: find it alone.
                if not self._apply_singly(position, notes, events, damaged, findings):
                    continue  # pragma: no cover
            applied += len(notes)
            # one batch in memory at a time, whatever the log's length
            del notes, events, damaged, findings
            if progress:
                progress(applied)

    def _decode(self, notes: list[Any]) -> tuple[list[tuple[Any, Any]], list[damage.Damaged]]:
        """(note, event) of each decodable note kept (``as_of``), and the damaged ones."""
        events: list[tuple[Any, Any]] = []
        damaged: list[damage.Damaged] = []
        decode = self.mapper.to_domain_event
        as_of = self.as_of
        for note in notes:
            try:
                event = decode(note)
            except Exception as exc:  # any failure to decode: damaged, skipped
                damaged.append(damage.of_note(note, exc))
                continue
            if as_of is None or event.timestamp <= as_of:
                events.append((note, event))
        return events, damaged

    def _apply(
        self,
        position: int,
        last: int,
        events: list[tuple[Any, Any]],
        damaged: list[damage.Damaged],
        findings: list[damage.Damaged],
        tail: order.Tail | None,
    ) -> None:
        """``Projector._apply``, with each aggregate's key taken from its note."""
        with self.db.transaction(soft=True) as cur:
            if self.db.dialect == "sqlite":  # a page cache for the new store's indexes
                cur.run(f"PRAGMA cache_size = -{CACHE_KIB}")
            moved = cur.run(
                "UPDATE pq_position SET position = ? WHERE name = ? AND position = ?",
                (last, NAME, position),
            )
            if moved != 1:
                raise _Moved
            first: dict[str, int] = {}  # each aggregate's first version in the batch
            for note, _ in events:
                if note.key not in first:
                    first[note.key] = note.originator_version
            keys = sorted(first)
            hurt = damage.first_of(cur, keys) if self._harmed else {}
            since = {d.aggregate_id: d.notification_id for d in reversed([*findings, *damaged])}
            check = self.check_order
            # An aggregate whose first event here is its event 1 has no head yet: the log
            # holds one event 1 per aggregate, and no later one is applied before it.
            # Nor a row of its own (an intent's row is made by its event 1).
            fresh = {k for k in keys if first[k] == 1} if check else set()
            known = order.heads(cur, [k for k in keys if k not in fresh]) if check else {}
            heads: dict[str, tuple[int, int]] = {}
            found: list[damage.Damaged] = []
            kept: list[tuple[str, Any]] = []
            for note, event in events:
                key = note.key
                number = note.id
                if (hurt and key in hurt) or (since and since.get(key, number + 1) < number):
                    continue
                if check:
                    previous = heads.get(key) or known.get(key) or (0, 0)
                    version = event.originator_version
                    if version != previous[0] + 1:
                        found.append(order.out_of_order(note, previous[0]))
                        since[key] = number
                        continue
                    heads[key] = (version, number)
                kept.append((key, event))
            apply_batch(cur, kept, fresh)
            harm = [*damaged, *findings, *found]
            order.write_heads(cur, heads)  # before ``record``, which places by them
            if harm:
                self._harmed = True
                damage.record(cur, harm)
            if tail is not None:
                order.write_tail(cur, NAME, tail)
            maybe_crash("in_projection")
        self.findings.extend([*findings, *found])
