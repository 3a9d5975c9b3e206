"""What the web console and ``GET /metrics`` read: the breaker's recent timeline, the
scrape-time figures, and the exact set of intents a bulk action matches."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from proofqueue.bootstrap import Components
from proofqueue.domain.errors import InvalidInput
from proofqueue.projections import queries, shared, timeline
from proofqueue.projections.timeline import Figures, Timeline

__all__ = ["Figures", "Timeline", "figures", "matching", "recent", "vendor_of"]

PAGE = 5000
# A bulk action from the console acts on at most this many intents (the CLI's --all has no
# such bound).
MAX_MATCH = 100_000


def vendor_of(parts: Components) -> str | None:
    """The vendor the views speak of: the configured one, else the last that moved."""
    if parts.vendor is not None:
        return parts.guard.vendor
    with parts.db.reading() as cur:
        return shared.latest_vendor(cur)


def recent(parts: Components, seconds: float, points: int) -> Timeline:
    """The breaker's states, failure ratio and backlog over the last ``seconds``."""
    if not (60 <= seconds <= 86_400) or not (2 <= points <= 500):
        raise InvalidInput("range", "60 s to a day, in 2 to 500 points")
    parts.projector.catch_up()
    return timeline.timeline(parts.db, vendor_of(parts), parts.clock(), seconds, points)


def figures(parts: Components) -> Figures:
    """The figures of ``GET /metrics``, from the views as they are now."""
    parts.projector.catch_up()
    settings = parts.settings
    return timeline.figures(
        parts.db,
        parts.clock(),
        settings.breaker.window_s,
        settings.lease_s,
        parts.guard.vendor if parts.vendor is not None else None,
    )


def matching(
    parts: Components,
    *,
    status: Sequence[str],
    actor: str | None,
    target: str | None,
    older_than: float | None,
    queued_before: float | None,
) -> list[str]:
    """The request_ids of every intent matching the filter (and queued before the epoch
    ``queued_before``, which pins the set a confirmation was shown), in list order."""
    statuses = [s.strip().upper() for s in status if s.strip()]
    unknown = [s for s in statuses if s not in queries.STATUSES]
    if unknown:
        raise InvalidInput(
            "status", f"unknown {', '.join(unknown)}; known: {', '.join(queries.STATUSES)}"
        )
    if older_than is not None and not (0 <= older_than < math.inf):
        raise InvalidInput("older_than", "must be a finite number of seconds, not negative")
    parts.projector.catch_up()
    now: datetime = parts.clock()
    cut = now.timestamp() - (older_than or 0.0)
    if queued_before is not None:
        cut = min(cut, queued_before)
    ids: list[str] = []
    while len(ids) < MAX_MATCH:
        flt = queries.ListFilter(
            statuses, actor, target, max(0.0, now.timestamp() - cut), PAGE, len(ids)
        )
        rows = queries.list_intents(parts.db, flt, now)
        ids.extend(row["request_id"] for row in rows)
        if len(rows) < PAGE:
            break
    return ids[:MAX_MATCH]
