"""``views rebuild``: build every view from the log alone and put it in place of the live
views, in one transaction (``projections/swap.py``). Safe while workers and commands run:
they go on reading the old views until the swap commits, and catch up from the rebuilt
position after it. The rebuild names how the old views differed from the log (what it
repairs) and what it found about the log's order (what it cannot repair: the log itself).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from proofqueue.bootstrap import Components
from proofqueue.projections import order
from proofqueue.projections.compare import compare_views
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import ViewDB, sqlite_viewdb, store_fault
from proofqueue.projections.swap import replace_views


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did: events applied, seconds, the position the views stand at, how
    the old views differed from the log, and the log-order findings the rebuild made."""

    events: int
    seconds: float
    position: int
    differences: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


def rebuild_views(
    parts: Components, progress: Callable[[int], None] | None = None
) -> RebuildReport:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="proofqueue-rebuild-") as tmp:
        fresh = sqlite_viewdb(os.path.join(tmp, "views.db"))
        try:
            rebuilt = Projector(parts.log.recorder, parts.log.mapper, fresh)
            unreadable = _live_position(parts)
            if isinstance(unreadable, int):
                events = rebuilt.catch_up(stop=unreadable, progress=progress)
                differences = _differences(parts, fresh)
            else:
                events, differences = 0, [unreadable]
            events += rebuilt.catch_up(progress=progress)
            position = replace_views(parts.db, fresh)
            findings = order.describe(fresh, rebuilt.findings)
        finally:
            fresh.datastore.close()
    parts.projector.catch_up()
    return RebuildReport(
        events=events,
        seconds=time.monotonic() - started,
        position=position,
        differences=differences,
        findings=findings,
    )


def _unreadable(exc: Exception) -> str:
    return (
        f"the live views cannot be read ({type(exc).__name__}: {' '.join(str(exc).split())}):"
        " every table built from the log is made anew"
    )


def _live_position(parts: Components) -> int | str:
    """The live views brought up to date and their position; or, when the views' store
    fails (damaged tables), why they cannot be read."""
    try:
        parts.projector.catch_up()
        return parts.projector.position()
    except Exception as exc:
        if not store_fault(exc):
            raise
        return _unreadable(exc)


def _differences(parts: Components, fresh: ViewDB) -> list[str]:
    try:
        return compare_views(parts.db, fresh)
    except Exception as exc:
        if not store_fault(exc):
            raise
        return [_unreadable(exc)]
