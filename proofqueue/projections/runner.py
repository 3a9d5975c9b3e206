"""Keeps the views up to date with the log, and rebuilds them from it.

SQLite's recorder offers no subscription, so the views follow the log by polling: read the
notifications after the tracked position, apply them and advance the position in one
transaction. Any process may catch up (a read command does before it answers); the
compare-and-set on the position makes sure each event is applied once. On PostgreSQL the
worker wakes on a timer too, so a lost notification cannot stall the views.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.persistence import OperationalError

from proofqueue.chaos import maybe_crash
from proofqueue.projections import tlog
from proofqueue.projections.store import ViewDB
from proofqueue.projections.views import apply_event, create_schema

NAME = "views"
BATCH = 1000


class _Moved(Exception):
    """Another runner advanced the position first."""


class Projector:
    """Applies the log's events to a ViewDB. ``as_of`` keeps only events up to a moment."""

    def __init__(
        self, recorder: Any, mapper: Any, db: ViewDB, *, as_of: datetime | None = None
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.db = db
        self.as_of = as_of
        create_schema(db, [NAME])
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
                    event = self.mapper.to_domain_event(note)
                    if self.as_of is None or event.timestamp <= self.as_of:
                        tlog.apply_event(cur, event)
                start = notes[-1].id + 1

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
            notes = self.recorder.select_notifications(start=position + 1, limit=BATCH, stop=stop)
            if not notes:
                return applied
            events = [self.mapper.to_domain_event(note) for note in notes]
            if self.as_of is not None:
                events = [e for e in events if e.timestamp <= self.as_of]
            try:
                self._apply(position, notes[-1].id, events)
            except _Moved:
                continue
            except OperationalError:
                time.sleep(0.01)  # the store was busy; try again from the tracked position
                continue
            applied += len(notes)
            if progress:
                progress(applied)

    def _apply(self, position: int, last: int, events: list[Any]) -> None:
        with self.db.transaction() as cur:
            moved = cur.run(
                "UPDATE pq_position SET position = ? WHERE name = ? AND position = ?",
                (last, NAME, position),
            )
            if moved != 1:
                raise _Moved
            for event in events:
                apply_event(cur, event)
            maybe_crash("in_projection")
