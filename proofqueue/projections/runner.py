"""Keeps the views up to date with the log, and rebuilds them from it.

SQLite's recorder offers no subscription, so the views follow the log by polling: read the
notifications after the tracked position, apply them and advance the position in one
transaction. Any process may catch up (a read command does before it answers); the
compare-and-set on the position makes sure each event is applied once. On PostgreSQL the
worker wakes on a timer too, so a lost notification cannot stall the views.

An event that cannot be decoded, or whose application fails, never stops the catch-up: it
is recorded in ``pq_damaged`` (``damage.py``) in the same transaction that moves the
position past it, and skipped. So is an event out of its aggregate's order, the views'
last applied event found gone or changed, and (on SQLite) a gap in the ids: ``order.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Notification

from proofqueue.chaos import maybe_crash
from proofqueue.domain.version import checked as checked_version
from proofqueue.projections import damage, order, tlog
from proofqueue.projections.batch import apply_batch
from proofqueue.projections.store import ViewDB, busy, store_fault
from proofqueue.projections.views import create_indexes, create_schema

NAME = "views"
BATCH = 1000
REBUILD_BATCH = 5000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _events_table(recorder: Any) -> str | None:
    """The quoted name of a PostgreSQL recorder's events table, or None."""
    schema = getattr(getattr(recorder, "datastore", None), "schema", None)
    table = getattr(recorder, "events_table_name", None)
    names = (schema, table)
    if not all(isinstance(n, str) and _NAME.match(n) for n in names):
        return None
    return f'"{schema}"."{table}"'


class _Moved(Exception):
    """Another runner advanced the position first."""


class Projector:
    """Applies the log's events to a ViewDB. ``as_of`` keeps only events up to a moment."""

    def __init__(
        self,
        recorder: Any,
        mapper: Any,
        db: ViewDB,
        *,
        as_of: datetime | None = None,
        rebuild: bool = False,
    ) -> None:
        """``rebuild``: ``db`` is a new throwaway store filled from the whole log (replay):
        bigger batches, and the secondary indexes made once by ``finish``."""
        self.recorder = recorder
        self.mapper = mapper
        self.db = db
        self.as_of = as_of
        # Versions are checked against the log's order (not in a replay ``as_of`` a moment:
        # skewed clocks may stamp an aggregate's later event before its earlier one).
        self.check_order = as_of is None
        # Every finding about the log's order this projector recorded (``replay --check``).
        self.findings: list[damage.Damaged] = []
        self.batch = REBUILD_BATCH if rebuild else BATCH
        self._indexed = not rebuild
        create_schema(db, [NAME], indexes=not rebuild)
        if not tlog.has_tables(db):
            self._create_tlog()
        if not order.has_tables(db):
            self._create_order()

    def _create_tlog(self) -> None:
        """Create the transparency tree's tables; on a store whose views already hold
        events, build the tree from those events in the same transaction, which holds the
        views' position, so every later batch appends after them."""
        with self.db.transaction() as cur:
            if self.db.dialect == "postgres":
                # Serializes creators, and holds the views' position until this commits.
                cur.run("LOCK TABLE pq_position IN SHARE ROW EXCLUSIVE MODE")
            if tlog.has_tables_in(cur):
                return  # another process made them first
            for statement in tlog.SCHEMA:
                cur.run(statement)
            row = cur.one("SELECT position FROM pq_position WHERE name = ?", (NAME,))
            upto = int(row["position"]) if row else 0
            start = 1
            while start <= upto:
                notes = self.recorder.select_notifications(start=start, limit=BATCH, stop=upto)
                if not notes:
                    break
                for note in notes:
                    try:
                        event = self.mapper.to_domain_event(note)
                    except Exception:  # noqa: S112  (recorded as damaged by the catch-up)
                        continue
                    if self.as_of is None or event.timestamp <= self.as_of:
                        tlog.apply_event(cur, event)
                start = notes[-1].id + 1

    def _create_order(self) -> None:
        """Create ``pq_heads`` and ``pq_tail``; on a store whose views already hold events,
        fill them from the log up to the views' position, in the transaction holding it."""
        with self.db.transaction() as cur:
            if self.db.dialect == "postgres":
                cur.run("LOCK TABLE pq_position IN SHARE ROW EXCLUSIVE MODE")
                if cur.one("SELECT to_regclass('pq_tail') IS NOT NULL AS found")["found"]:  # type: ignore[index]
                    return  # another process made them first
            for statement in order.SCHEMA:
                cur.run(statement)
            row = cur.one("SELECT position FROM pq_position WHERE name = ?", (NAME,))
            upto = int(row["position"]) if row else 0
            heads: dict[str, tuple[int, int]] = {}
            last = None
            start = 1
            while start <= upto:
                notes = self.recorder.select_notifications(start=start, limit=BATCH, stop=upto)
                if not notes:
                    break
                for note in notes:
                    key = damage.aggregate_key(note.originator_id)
                    version = int(note.originator_version)
                    if version > heads.get(key, (0, 0))[0]:
                        heads[key] = (version, int(note.id))
                last = notes[-1]
                start = int(last.id) + 1
            order.write_heads(cur, heads)
            if last is not None and int(last.id) == upto:
                order.write_tail(cur, NAME, order.tail_of(last))

    def finish(self) -> None:
        """Make the indexes a rebuild left out (once; a no-op for live views)."""
        if not self._indexed:
            create_indexes(self.db)
            self._indexed = True

    def position(self) -> int:
        row = self.db.query("SELECT position FROM pq_position WHERE name = ?", (NAME,))
        return int(row[0]["position"]) if row else 0

    def progress(self) -> tuple[int, int]:
        """The tracked position and the log's last notification id."""
        return self.position(), int(self.recorder.max_notification_id() or 0)

    def _mark(self) -> tuple[int, order.Tail | None]:
        """The tracked position and the last notification applied (one query)."""
        with self.db.reading() as cur:
            row = cur.one("SELECT position FROM pq_position WHERE name = ?", (NAME,))
            return (int(row["position"]) if row else 0), order.read_tail(cur, NAME)

    def _read(self, stop: int | None) -> tuple[int, order.Tail | None, list[Any]]:
        """The tracked position, the last notification applied, and the notifications from
        the position on (up to ``stop``). On PostgreSQL in one read-only transaction: a
        catch-up that finds nothing new commits nothing (the recorder's own read would be
        a transaction of its own, committed)."""
        shared = getattr(self.recorder, "datastore", None) is self.db.datastore
        table = _events_table(self.recorder) if shared and self.db.dialect == "postgres" else None
        if table is None:
            position, tail = self._mark()
            if stop is not None and position >= stop:
                return position, tail, []
            notes = self.recorder.select_notifications(
                start=max(position, 1), limit=self.batch + 1, stop=stop
            )
            return position, tail, list(notes)
        upto = "" if stop is None else f" AND notification_id <= {int(stop)}"
        with self.db.reading() as cur:  # the three in one read transaction
            marks, tails, rows = cur.all_of(
                [
                    ("SELECT position FROM pq_position WHERE name = ?", (NAME,)),
                    (order.TAIL, (NAME,)),
                    (
                        "SELECT notification_id, originator_id, originator_version, topic,"  # noqa: S608  (the recorder's table)
                        f" state FROM {table} WHERE notification_id >= GREATEST(1, COALESCE("
                        f"(SELECT position FROM pq_position WHERE name = ?), 0)){upto}"
                        " ORDER BY notification_id LIMIT ?",
                        (NAME, self.batch + 1),
                    ),
                ]
            )
        position = int(marks[0]["position"]) if marks else 0
        tail = order.tail_of_row(tails[0] if tails else None)
        if stop is not None and position >= stop:
            return position, tail, []
        notes = [
            Notification(
                id=r["notification_id"],
                originator_id=r["originator_id"],
                originator_version=checked_version(r["originator_version"]),
                topic=r["topic"],
                state=r["state"],  # bytes; NULL (a damaged row) the mapper names
            )
            for r in rows
        ]
        return position, tail, notes

    def catch_up(
        self, stop: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Apply every event after the tracked position (up to ``stop``); return how many."""
        applied = 0
        while True:
            position, tail, notes = self._read(stop)
            if stop is not None and position >= stop:
                return applied
            # A page short of the limit reached the log's end (as of the read): no read more.
            more = len(notes) > self.batch
            notes, findings, last_tail = self._follow_tail(position, tail, notes)
            if not notes and not findings:
                return applied
            events, damaged = self._decode(notes)
            last = int(notes[-1].id) if notes else position
            try:
                self._apply(position, last, events, damaged, findings, last_tail)
            except _Moved:
                continue
            except Exception as exc:
                if busy(exc):
                    time.sleep(0.01)  # the store was busy; try again from the tracked position
                    continue
                if store_fault(exc):
                    raise  # the views' store fails (damaged, gone): no event is to blame
                # An event that decodes but cannot be applied: find it alone.
                if not self._apply_singly(position, notes, events, damaged, findings):
                    continue
            applied += len(notes)
            if progress:
                progress(applied)
            if not more:
                return applied

    def _follow_tail(
        self, position: int, tail: order.Tail | None, notes: list[Any]
    ) -> tuple[list[Any], list[damage.Damaged], order.Tail | None]:
        """The notes still to apply, findings about the log's order, and the tail to record
        when the notes are all applied. The note at ``position`` is the last one applied:
        the same as then, it is skipped; gone or changed, the aggregate it was is named."""
        at = notes[0] if notes and int(notes[0].id) == position else None
        findings: list[damage.Damaged] = []
        if tail is not None and tail.notification_id == position and position > 0:
            if at is not None and order.digest(at) == tail.digest:
                notes = notes[1:]
            elif tail.digest != order.GONE:  # named once; a later event at the id is new
                findings.append(order.gone(tail, at))
        else:
            notes = [note for note in notes if int(note.id) > position]
        notes = notes[: self.batch]
        if self.check_order and order.log_is_sqlite(self.recorder):
            findings += order.gaps(position, [int(note.id) for note in notes])
        if notes:
            return notes, findings, order.tail_of(notes[-1])
        if findings and tail is not None:
            return (
                notes,
                findings,
                order.Tail(tail.notification_id, tail.aggregate_id, tail.version, order.GONE),
            )
        return notes, findings, tail

    def _decode(self, notes: list[Any]) -> tuple[list[tuple[Any, Any]], list[damage.Damaged]]:
        """(note, event) of each decodable note kept (``as_of``), and the damaged ones."""
        events: list[tuple[Any, Any]] = []
        damaged: list[damage.Damaged] = []
        for note in notes:
            try:
                event = self.mapper.to_domain_event(note)
            except Exception as exc:  # any failure to decode: damaged, skipped
                damaged.append(damage.of_note(note, exc))
                continue
            if self.as_of is None or event.timestamp <= self.as_of:
                events.append((note, event))
        return events, damaged

    def _apply_singly(
        self,
        position: int,
        notes: list[Any],
        events: list[tuple[Any, Any]],
        damaged: list[damage.Damaged],
        findings: list[damage.Damaged],
    ) -> bool:
        """Apply a batch one note per transaction, recording an event whose application
        fails as damaged. False when another runner moved first."""
        by_id = {int(note.id): (note, event) for note, event in events}
        bad = {item.notification_id: item for item in damaged}
        for note in notes:
            found = by_id.get(int(note.id))
            one = [found] if found else []
            hurt = [bad[int(note.id)]] if int(note.id) in bad else []
            tail = order.tail_of(note)
            try:
                self._apply(position, int(note.id), one, hurt, findings, tail)
            except _Moved:
                return False
            except Exception as exc:
                if busy(exc):
                    return False
                if store_fault(exc):
                    raise
                try:  # this event cannot be applied: damaged
                    broken = [damage.of_note(note, exc)]
                    self._apply(position, int(note.id), [], broken, findings, tail)
                except _Moved:
                    return False
                except Exception as again:
                    if busy(again):
                        return False
                    raise
            findings = []  # recorded with the first note
            position = int(note.id)
        return True

    def _apply(
        self,
        position: int,
        last: int,
        events: list[tuple[Any, Any]],
        damaged: list[damage.Damaged],
        findings: list[damage.Damaged],
        tail: order.Tail | None,
    ) -> None:
        with self.db.transaction(soft=True) as cur:
            moved = cur.run(
                "UPDATE pq_position SET position = ? WHERE name = ? AND position = ?",
                (last, NAME, position),
            )
            if moved != 1:
                raise _Moved
            with cur.pipelined():  # one round trip for the writes between two reads
                # An aggregate keeps what its events showed before its first damaged one: the
                # events after it are not applied (its trail cannot be proved past it).
                keys = sorted({str(event.originator_id) for _, event in events})
                hurt = damage.first_of(cur, keys)
                since = {d.aggregate_id: d.notification_id for d in reversed([*findings, *damaged])}
                known = order.heads(cur, keys) if self.check_order else {}
                heads: dict[str, tuple[int, int]] = {}
                found: list[damage.Damaged] = []
                kept: list[tuple[str, Any]] = []
                for note, event in events:
                    key = str(event.originator_id)
                    if key in hurt or since.get(key, int(note.id) + 1) < int(note.id):
                        continue
                    if self.check_order:
                        previous = heads.get(key) or known.get(key) or (0, 0)
                        if int(event.originator_version) != previous[0] + 1:
                            found.append(order.out_of_order(note, previous[0]))
                            since[key] = int(note.id)
                            continue
                        heads[key] = (int(event.originator_version), int(note.id))
                    kept.append((key, event))
                apply_batch(cur, kept)
                order.write_heads(cur, heads)  # before ``record``, which places by them
                damage.record(cur, [*damaged, *findings, *found])
                if tail is not None:
                    order.write_tail(cur, NAME, tail)
                maybe_crash("in_projection")
        self.findings.extend([*findings, *found])
