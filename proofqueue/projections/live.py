"""The live views as the worker sees them (the ``Views`` port): caught up from the log on
demand, queried for due and claimed attempts and submitted jobs, and the heartbeats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from proofqueue.domain.heartbeat import Heartbeat
from proofqueue.domain.work import Work
from proofqueue.projections import queries, shared
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import ViewDB

# Every this many heartbeats of a process, stale rows of ``pq_work`` are dropped.
PRUNE_EVERY = 60


@dataclass
class LiveViews:
    db: ViewDB
    projector: Projector
    _beats: int = 0

    def catch_up(self) -> int:
        return self.projector.catch_up()

    def progress(self) -> tuple[int, int]:
        return self.projector.progress()

    def work(self, now: datetime, due_limit: int, slots: Sequence[str] | None = None) -> Work:
        return queries.work(self.db, now, due_limit, slots)

    def beat(
        self,
        beat: Heartbeat,
        lease_s: float,
        reads: Mapping[str, float | None],
        blocked: Mapping[str, tuple[str, float]],
    ) -> list[str]:
        with self.db.transaction(soft=True) as cur, cur.pipelined():  # soft: no fsync
            shared.beat(cur, beat)
            shared.note_work(cur, reads, blocked)
            self._beats += 1
            if self._beats % PRUNE_EVERY == 1:
                shared.prune_work(cur)
            return shared.live_workers(cur, lease_s)
