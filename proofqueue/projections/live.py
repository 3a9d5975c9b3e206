"""The live views as the worker sees them (the ``Views`` port): caught up from the log on
demand, queried for due attempts and submitted jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from proofqueue.projections import queries
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import ViewDB


@dataclass
class LiveViews:
    db: ViewDB
    projector: Projector

    def catch_up(self) -> int:
        return self.projector.catch_up()

    def due(self, now: datetime, limit: int) -> list[str]:
        return queries.due(self.db, now, limit)

    def submitted(self, limit: int) -> list[tuple[str, str]]:
        return queries.submitted(self.db, limit)
