"""Replay: rebuild every view from the log alone, into a fresh throwaway store; compare it
with the live views (``check``), or stop at a moment of the past (``as_of``)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import JsonValue

from proofqueue.bootstrap import Components
from proofqueue.domain.errors import InvalidInput
from proofqueue.projections import order, queries
from proofqueue.projections.compare import compare_views
from proofqueue.projections.rebuild import Rebuilder
from proofqueue.projections.store import sqlite_viewdb
from proofqueue.usecases.shapes import Health, IntentRow

# What the views of a past moment cannot know: left out of ``as_of_json``.
NOT_AS_OF_ROW = {"waiting_for"}
NOT_AS_OF_HEALTH = {"damaged", "breaker_damaged"}


@dataclass(frozen=True)
class ReplayReport:
    """What ``replay`` did: ``events`` replayed in ``seconds``; with ``check``, the
    ``differences`` between the rebuilt views and the live ones; with ``as_of``, the
    operator list (``intents``) and ``health`` as they stood then."""

    events: int
    seconds: float
    differences: list[str] = field(default_factory=list)
    as_of: datetime | None = None
    intents: list[IntentRow] = field(default_factory=list)
    health: Health | None = None

    def as_of_json(self) -> dict[str, JsonValue]:
        """``{"as_of", "intents", "health"}`` as ``replay --as-of --json`` prints it: the
        rows without ``waiting_for`` and the health without the damage fields (the views
        of a past moment hold neither)."""
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "intents": [r.model_dump(mode="json", exclude=NOT_AS_OF_ROW) for r in self.intents],
            "health": self.health.model_dump(mode="json", exclude=NOT_AS_OF_HEALTH)
            if self.health
            else None,
        }


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
            rebuilt = Rebuilder(parts.log.recorder, parts.log.mapper, fresh, as_of=as_of)
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
                # The log's own order, as the rebuild found it: a problem even where the
                # live views made the same finding.
                differences += order.describe(fresh, rebuilt.findings)
            else:
                events = rebuilt.catch_up(progress=progress)
            if as_of is not None:  # only its queries use the secondary indexes
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
                view = queries.health(fresh, as_of, parts.settings.breaker.window_s)
                for row in rows:
                    row.pop("_work")
                report = replace(
                    report,
                    intents=[
                        IntentRow.model_validate({**row, "waiting_for": None}, by_name=True)
                        for row in rows
                    ],
                    health=Health.model_validate(
                        {**view, "damaged": (), "breaker_damaged": None}, by_name=True
                    ),
                )
            return report
        finally:
            fresh.datastore.close()
