"""Reads answered from the views: the operator list, counts and the breaker's health."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from proofqueue.bootstrap import Components
from proofqueue.domain.errors import InvalidInput, TrailDamaged, damage_note
from proofqueue.projections import damage, queries, shared
from proofqueue.usecases.shapes import DamagedEvent, Health, IntentRow, WorkerRow

MAX_OFFSET = 1_000_000_000


def list_intents(
    parts: Components,
    *,
    status: Sequence[str],
    actor: str | None,
    target: str | None,
    older_than: float | None,
    limit: int,
    offset: int,
    cursor: str | None = None,
) -> list[IntentRow]:
    """A page of the operator list (see ``list_page``)."""
    rows, _ = list_page(
        parts, status=status, actor=actor, target=target, older_than=older_than,
        limit=limit, offset=offset, cursor=cursor,
    )  # fmt: skip
    return rows


FIRST_PAGE = ("", "start")  # the cursor of the first page


def list_page(
    parts: Components,
    *,
    status: Sequence[str],
    actor: str | None,
    target: str | None,
    older_than: float | None,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
) -> tuple[list[IntentRow], str | None]:
    """A page of the operator list and the cursor of the next page (None after the last
    page). ``cursor`` (``"start"`` or ``""`` for the first page, else a cursor this gave)
    pages by key: each page begins right after the previous page's last row, found at
    once however deep, and a row whose status stays the same while paging is seen exactly
    once whatever else is queued, moved or changed meanwhile. ``offset`` pages by
    position (and cannot be combined with a cursor)."""
    after = None
    if cursor is not None and cursor not in FIRST_PAGE:
        after = queries.parse_cursor(cursor)
        if after is None:
            raise InvalidInput("cursor", "is not a cursor from a previous page (or 'start')")
    if cursor is not None and offset:
        raise InvalidInput("offset", "cannot be combined with a cursor")
    statuses = [s.strip().upper() for s in status if s.strip()]
    unknown = [s for s in statuses if s not in queries.STATUSES]
    if unknown:
        raise InvalidInput(
            "status", f"unknown {', '.join(unknown)}; known: {', '.join(queries.STATUSES)}"
        )
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit", "must be between 1 and 10000")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput("offset", f"must be between 0 and {MAX_OFFSET}")
    if older_than is not None and not (0 <= older_than < math.inf):
        raise InvalidInput("older_than", "must be a finite number of seconds, not negative")
    parts.projector.catch_up()
    flt = queries.ListFilter(statuses, actor, target, older_than, limit, offset, after=after)
    rows = queries.list_intents(parts.db, flt, parts.clock())
    following = queries.cursor_after(rows[-1]) if len(rows) == limit else None
    explain(parts, rows)
    return [IntentRow.model_validate(row) for row in rows], following


def explain(parts: Components, rows: list[dict[str, Any]]) -> None:
    """Set each row's ``waiting_for``: why an open intent waits (None once terminal), or
    ``trail damaged at event N: ...`` for an intent with a damaged event (whatever its
    status: the worker leaves it alone until it is repaired)."""
    works = [row.pop("_work") for row in rows]
    with parts.db.reading() as cur:
        hurt = damage.first_of(cur, [w["intent_id"] for w in works])
    wanted = [w["intent_id"] for row, w in zip(rows, works, strict=True) if _open(row)]
    if not wanted:
        for row, work in zip(rows, works, strict=True):
            row["waiting_for"] = _damaged(hurt.get(work["intent_id"]))
        return
    view = health(parts, caught_up=True)
    with parts.db.reading() as cur:
        noted = shared.work_of(cur, wanted)
        alive = {r["worker"] for r in shared.workers(cur, parts.settings.lease_s) if r["alive"]}
    for row, work in zip(rows, works, strict=True):
        found = _damaged(hurt.get(work["intent_id"]))
        if found is None and _open(row):
            try:
                found = _why(parts, row, work, noted.get(work["intent_id"], {}), view, alive)
            except TrailDamaged as exc:
                found = _damaged((exc.seq or 0, exc.detail))
        row["waiting_for"] = found


def _damaged(found: tuple[int, str] | None) -> str | None:
    return None if found is None else damage_note(*found)


def damaged(parts: Components) -> list[DamagedEvent]:
    """Every stored event the views found damaged: ``{"intent", "request_id",
    "aggregate_id", "event", "reason"}``, the request_id when the views know it."""
    parts.projector.catch_up()
    return [DamagedEvent.model_validate(item) for item in damage.listing(parts.db)]


def _open(row: dict[str, Any]) -> bool:
    return row["status"] in ("QUEUED", "RETRYING", "SUBMITTED")


def _why(
    parts: Components,
    row: dict[str, Any],
    work: dict[str, Any],
    noted: dict[str, Any],
    view: Health,
    alive: set[str],
) -> str:
    if row["status"] == "SUBMITTED":
        at = queries.iso(noted.get("next_read_at")) or "the next worker round"
        note = f": {work['job_note']}" if work.get("job_note") else ""
        return f"job {work['job_id']} at the vendor, next read at {at}{note}"
    if work["claim_until"] is not None:
        worker = parts.log.intent(row["request_id"]).claimed_by or "an unknown worker"
        gone = "" if worker in alive else " (gone)"
        return f"attempt in flight in {worker}{gone} until {queries.iso(work['claim_until'])}"
    if view.held:
        return f"vendor held by {view.held.by}: {view.held.reason}"
    blocked_until = noted.get("blocked_until")
    if noted.get("blocked") and blocked_until and blocked_until > parts.clock().timestamp():
        return str(noted["blocked"])
    if view.state == "DEGRADED":
        return f"breaker DEGRADED until {_iso(view.open_until)}"
    if view.state == "RECOVERING":
        return f"breaker RECOVERING until {_iso(view.probe_until)}"
    return f"next attempt at {queries.iso(work['next_attempt_at'])}"


def counts(parts: Components) -> dict[str, int]:
    parts.projector.catch_up()
    return queries.counts(parts.db)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def health(parts: Components, *, caught_up: bool = False) -> Health:
    """The breaker health view, with the live window that every process on the store
    counts into. ``damaged`` lists the damaged events the views found (intents and
    breaker), ``breaker_damaged`` names the breaker's first damaged event (its state is
    then the last good one, see ``BreakerGuard``), or None."""
    if not caught_up:
        parts.projector.catch_up()
    window_s = parts.settings.breaker.window_s
    vendor = parts.guard.vendor if parts.vendor is not None else None
    with parts.db.reading() as cur:
        vendor = vendor or shared.latest_vendor(cur)
        live = shared.live_window(cur, vendor, window_s) if vendor else shared.Window()
    view = queries.health(
        parts.db,
        parts.clock(),
        window_s,
        live=(live.calls, live.failures),
        probe_lease_s=parts.settings.lease_s,
    )
    view["damaged"] = damage.listing(parts.db)
    view["breaker_damaged"] = None
    vendor = vendor or view["vendor"]
    if vendor:
        try:
            parts.log.breaker_log(vendor)
        except TrailDamaged as exc:
            view["breaker_damaged"] = {"event": exc.seq, "reason": exc.detail}
            view["held"] = None  # not honoured while the breaker's trail is damaged
    return Health.model_validate(view)


def workers(parts: Components) -> list[WorkerRow]:
    """Every worker seen in the last hour, alive while its last heartbeat is younger than
    the lease (by the store's clock)."""
    with parts.db.reading() as cur:
        rows = shared.workers(cur, parts.settings.lease_s)
    return [
        WorkerRow(
            worker=r["worker"],
            host=r["host"],
            pid=r["pid"],
            started_at=_at(r["started_at"]),
            last_seen_at=_at(r["last_seen_at"]),
            alive=r["alive"],
            in_flight=r["in_flight"],
        )
        for r in rows
    ]


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
