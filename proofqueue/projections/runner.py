"""Keeps the views up to date with the log, and rebuilds them from it.

SQLite's recorder offers no subscription, so the views follow the log by polling: read the
notifications after the tracked position, apply them and advance the position in one
transaction. Any process may catch up (a read command does before it answers); the
compare-and-set on the position makes sure each event is applied once. On PostgreSQL the
worker wakes on a timer too, so a lost notification cannot stall the views.

An event that cannot be decoded, or whose application fails, never stops the catch-up: it
is recorded in ``pq_damaged`` (``damage.py``) in the same transaction that moves the
position past it, and skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.persistence import OperationalError

from proofqueue.chaos import maybe_crash
from proofqueue.projections import damage, tlog
from proofqueue.projections.batch import apply_batch
from proofqueue.projections.store import ViewDB
from proofqueue.projections.views import create_indexes, create_schema

NAME = "views"
BATCH = 1000
REBUILD_BATCH = 5000


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
        self.batch = REBUILD_BATCH if rebuild else BATCH
        self._indexed = not rebuild
        create_schema(db, [NAME], indexes=not rebuild)
        if not tlog.has_tables(db):
            self._create_tlog()

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

    def finish(self) -> None:
        """Make the indexes a rebuild left out (once; a no-op for live views)."""
        if not self._indexed:
            create_indexes(self.db)
            self._indexed = True

    def position(self) -> int:
        row = self.db.query("SELECT position FROM pq_position WHERE name = ?", (NAME,))
        return int(row[0]["position"]) if row else 0

    def catch_up(
        self, stop: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Apply every event after the tracked position (up to ``stop``); return how many."""
        applied = 0
        while True:
            position = self.position()
            if stop is not None and position >= stop:
                return applied
            notes = self.recorder.select_notifications(
                start=position + 1, limit=self.batch, stop=stop
            )
            if not notes:
                return applied
            events, damaged = self._decode(notes)
            try:
                self._apply(position, notes[-1].id, events, damaged)
            except _Moved:
                continue
            except OperationalError:
                time.sleep(0.01)  # the store was busy; try again from the tracked position
                continue
            except Exception:  # an event that decodes but cannot be applied: find it alone
                if not self._apply_singly(position, notes, events, damaged):
                    continue
            applied += len(notes)
            if progress:
                progress(applied)

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
    ) -> bool:
        """Apply a batch one note per transaction, recording an event whose application
        fails as damaged. False when another runner moved first."""
        by_id = {int(note.id): (note, event) for note, event in events}
        bad = {item.notification_id: item for item in damaged}
        for note in notes:
            found = by_id.get(int(note.id))
            one = [found] if found else []
            hurt = [bad[int(note.id)]] if int(note.id) in bad else []
            try:
                self._apply(position, int(note.id), one, hurt)
            except _Moved:
                return False
            except OperationalError:
                return False
            except Exception as exc:  # this event cannot be applied: damaged
                try:
                    self._apply(position, int(note.id), [], [damage.of_note(note, exc)])
                except (_Moved, OperationalError):
                    return False
            position = int(note.id)
        return True

    def _apply(
        self,
        position: int,
        last: int,
        events: list[tuple[Any, Any]],
        damaged: list[damage.Damaged],
    ) -> None:
        with self.db.transaction() as cur:
            moved = cur.run(
                "UPDATE pq_position SET position = ? WHERE name = ? AND position = ?",
                (last, NAME, position),
            )
            if moved != 1:
                raise _Moved
            # An aggregate keeps what its events showed before its first damaged one: the
            # events after it are not applied (its trail cannot be proved past it).
            keys = {str(event.originator_id) for _, event in events}
            hurt = damage.first_of(cur, sorted(keys))
            since = {d.aggregate_id: d.notification_id for d in reversed(damaged)}
            kept = []
            for note, event in events:
                key = str(event.originator_id)
                if key in hurt or since.get(key, note.id + 1) < note.id:
                    continue
                kept.append((key, event))
            apply_batch(cur, kept)
            damage.record(cur, damaged)
            maybe_crash("in_projection")
