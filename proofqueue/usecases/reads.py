"""Reads answered from the views: the operator list, counts and the breaker's health."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from proofqueue.bootstrap import Components
from proofqueue.domain.errors import InvalidInput
from proofqueue.projections import queries


def list_intents(
    parts: Components,
    *,
    status: Sequence[str],
    actor: str | None,
    target: str | None,
    older_than: float | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    statuses = [s.strip().upper() for s in status if s.strip()]
    unknown = [s for s in statuses if s not in queries.STATUSES]
    if unknown:
        raise InvalidInput(
            "status", f"unknown {', '.join(unknown)}; known: {', '.join(queries.STATUSES)}"
        )
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit", "must be between 1 and 10000")
    if offset < 0:
        raise InvalidInput("offset", "must not be negative")
    if older_than is not None and older_than < 0:
        raise InvalidInput("older_than", "must not be negative")
    parts.projector.catch_up()
    flt = queries.ListFilter(statuses, actor, target, older_than, limit, offset)
    return queries.list_intents(parts.db, flt, parts.clock())


def counts(parts: Components) -> dict[str, int]:
    parts.projector.catch_up()
    return queries.counts(parts.db)


def health(parts: Components) -> dict[str, Any]:
    """The breaker health view, with this process's live window when it has calls."""
    parts.projector.catch_up()
    now = parts.clock()
    view = queries.health(parts.db, now, parts.settings.breaker.window_s)
    state, ratio, calls = parts.guard.snapshot(now)
    if calls and state.value == view["state"]:
        view["failure_ratio"], view["calls_in_window"] = round(ratio, 4), calls
    return view
