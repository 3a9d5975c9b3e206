"""Replay: rebuild every view from the log alone, into a fresh throwaway store; compare it
with the live views (``check``), or stop at a moment of the past (``as_of``)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from proofqueue.bootstrap import Components
from proofqueue.domain.errors import InvalidInput
from proofqueue.projections import queries
from proofqueue.projections.compare import compare_views
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import sqlite_viewdb


@dataclass(frozen=True)
class ReplayReport:
    events: int
    seconds: float
    differences: list[str] = field(default_factory=list)
    as_of: datetime | None = None
    intents: list[dict[str, Any]] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)


def replay(
    parts: Components,
    *,
    check: bool = False,
    as_of: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidInput("as_of", "needs a time zone (for example 2026-01-01T00:00:00Z)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="proofqueue-replay-") as tmp:
        fresh = sqlite_viewdb(os.path.join(tmp, "views.db"))
        try:
            rebuilt = Projector(
                parts.log.recorder, parts.log.mapper, fresh, as_of=as_of, rebuild=True
            )
            events = 0
            differences: list[str] = []
            if check:
                for _ in range(20):
                    parts.projector.catch_up()
                    target = parts.projector.position()
                    events += rebuilt.catch_up(stop=target, progress=progress)
                    differences = compare_views(parts.db, fresh)
                    if parts.projector.position() == target:
                        break
            else:
                events = rebuilt.catch_up(progress=progress)
            rebuilt.finish()
            report = ReplayReport(
                events=events,
                seconds=time.monotonic() - started,
                differences=differences,
                as_of=as_of,
            )
            if as_of is not None:
                flt = queries.ListFilter(limit=10_000)
                rows = queries.list_intents(fresh, flt, as_of)
                for row in rows:
                    row.pop("_work")
                report.intents.extend(rows)
                report.health.update(queries.health(fresh, as_of, parts.settings.breaker.window_s))
            return report
        finally:
            fresh.datastore.close()
