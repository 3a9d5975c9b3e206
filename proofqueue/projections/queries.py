"""Questions answered from the views: the operator list, counts, due work, breaker health."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from proofqueue.domain.work import Work
from proofqueue.projections.store import Cursor, ViewDB
from proofqueue.projections.views import RANK

OPEN = ("QUEUED", "RETRYING")
STATUSES = ("QUEUED", "RETRYING", "SUBMITTED", "SETTLED", "FAILED")


def iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch is not None else None


@dataclass(frozen=True)
class ListFilter:
    statuses: Sequence[str] = ()
    actor: str | None = None
    target: str | None = None
    older_than_s: float | None = None
    limit: int = 100
    offset: int = 0
    request_id: str | None = None
    # Keyset paging: only rows after this sort key (sort_rank, queued_at, request_id).
    after: tuple[int, float, str] | None = None


def list_intents(db: ViewDB, flt: ListFilter, now: datetime) -> list[dict[str, Any]]:
    """Rows of the operator list, queued and retrying first, oldest first within each."""
    where: list[str] = []
    params: list[Any] = []
    if flt.statuses:
        # The rank range lets the (sort_rank, queued_at) index find the rows at once.
        ranks = [RANK[status] for status in flt.statuses]
        where.append("sort_rank BETWEEN ? AND ?")
        params.extend((min(ranks), max(ranks)))
        where.append(f"status IN ({', '.join('?' for _ in flt.statuses)})")
        params.extend(flt.statuses)
    if flt.request_id is not None:
        where.append("request_id = ?")
        params.append(flt.request_id)
    if flt.actor is not None:
        where.append("actor = ?")
        params.append(flt.actor)
    if flt.target is not None:
        where.append("target = ?")
        params.append(flt.target)
    if flt.older_than_s is not None:
        where.append("queued_at <= ?")
        params.append(now.timestamp() - flt.older_than_s)
    if flt.after is not None:
        where.append("(sort_rank, queued_at, request_id) > (?, ?, ?)")
        params.extend(flt.after)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = db.query(
        "SELECT request_id, status, actor, target, attempts, last_error, next_attempt_at,"  # noqa: S608  (clauses are fixed text, values are bound)
        " queued_at, intent_id, job_id, job_note, claim_until, sort_rank"
        f" FROM pq_intents {clause} ORDER BY sort_rank, queued_at, request_id"
        " LIMIT ? OFFSET ?",
        (*params, flt.limit, flt.offset),
    )
    return [
        {
            "request_id": r["request_id"],
            "status": r["status"],
            "actor": r["actor"],
            "target": r["target"],
            "attempts": r["attempts"],
            "last_error": r["last_error"],
            "next_attempt_at": iso(r["next_attempt_at"]) if r["status"] in OPEN else None,
            "queued_at": iso(r["queued_at"]),
            "age_s": round(max(0.0, now.timestamp() - r["queued_at"]), 3),
            "_work": {
                "intent_id": r["intent_id"],
                "job_id": r["job_id"],
                "job_note": r["job_note"],
                "claim_until": r["claim_until"],
                "next_attempt_at": r["next_attempt_at"],
                "key": (r["sort_rank"], r["queued_at"], r["request_id"]),
            },
        }
        for r in rows
    ]


CURSOR_PREFIX = "c1."


def cursor_after(row: dict[str, Any]) -> str:
    """The cursor of the page after ``row`` (a row of ``list_intents``, before ``_work`` is
    taken off): its sort key, as opaque text."""
    rank, queued_at, request_id = row["_work"]["key"]
    raw = json.dumps([rank, queued_at, request_id], separators=(",", ":")).encode()
    return CURSOR_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_cursor(cursor: str) -> tuple[int, float, str] | None:
    """The sort key a cursor holds; None when it is not one of ``cursor_after``."""
    if not cursor.startswith(CURSOR_PREFIX) or len(cursor) > 2000:
        return None
    body = cursor[len(CURSOR_PREFIX) :]
    try:
        key = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, RecursionError):
        return None
    if not (isinstance(key, list) and len(key) == 3):
        return None
    rank, queued_at, request_id = key
    if type(rank) is not int or type(queued_at) not in (int, float):
        return None
    if not isinstance(request_id, str) or not math.isfinite(queued_at):
        return None
    return rank, float(queued_at), request_id


def counts(db: ViewDB) -> dict[str, int]:
    """Intents in each status, from the counters the projection keeps (no scan)."""
    rows = db.query("SELECT status, n FROM pq_counts")
    found = {r["status"]: int(r["n"]) for r in rows}
    return {status: found.get(status, 0) for status in STATUSES}


SLOTS = "0123456789abcdef"  # the first hex digit of an intent's id: 16 slots of work


def slots_of(rank: int, members: int) -> list[str]:
    """The slots a worker owns: the ``rank``-th of ``members`` live workers (sorted by
    name) owns every slot whose number is ``rank`` modulo ``members``."""
    members = max(members, 1)
    return [slot for n, slot in enumerate(SLOTS) if n % members == rank % members]


# An intent with a damaged or misplaced event is isolated: never due, claimed or followed.
INTACT = " AND NOT EXISTS (SELECT 1 FROM pq_damaged d WHERE d.aggregate_id = pq_intents.intent_id)"


def _in_slots(slots: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    if slots is None or len(slots) == len(SLOTS):
        return "", ()
    return f" AND substr(intent_id, 1, 1) IN ({', '.join('?' for _ in slots)})", tuple(slots)


def _due(now: datetime, limit: int, slots: Sequence[str] | None) -> tuple[str, tuple[Any, ...]]:
    where, params = _in_slots(slots)
    return (
        "SELECT request_id FROM pq_intents WHERE status IN ('QUEUED', 'RETRYING')"  # noqa: S608  (fixed text)
        f" AND claim_until IS NULL AND next_attempt_at <= ?{where}"
        " AND NOT EXISTS (SELECT 1 FROM pq_work w WHERE w.intent_id = pq_intents.intent_id"
        f" AND w.blocked_until > ?){INTACT} ORDER BY next_attempt_at LIMIT ?",
        (now.timestamp(), *params, now.timestamp(), limit),
    )


def _claimed(limit: int, slots: Sequence[str] | None) -> tuple[str, tuple[Any, ...]]:
    where, params = _in_slots(slots)
    return (
        "SELECT request_id, version FROM pq_intents"  # noqa: S608  (fixed text)
        f" WHERE status IN ('QUEUED', 'RETRYING') AND claim_until IS NOT NULL{where}{INTACT}"
        " ORDER BY claim_until LIMIT ?",
        (*params, limit),
    )


def _submitted(limit: int, slots: Sequence[str] | None) -> tuple[str, tuple[Any, ...]]:
    where, params = _in_slots(slots)
    return (
        "SELECT request_id, job_id, version FROM pq_intents WHERE status = 'SUBMITTED'"  # noqa: S608  (fixed text)
        f"{where}{INTACT} ORDER BY updated_at LIMIT ?",
        (*params, limit),
    )


def due(db: ViewDB, now: datetime, limit: int, slots: Sequence[str] | None = None) -> list[str]:
    """request_ids whose next attempt is due and unclaimed, the longest due first (a queued
    intent is due from the moment it was queued), in the given slots."""
    return [r["request_id"] for r in db.query(*_due(now, limit, slots))]


def work(
    db: ViewDB, now: datetime, due_limit: int, slots: Sequence[str] | None = None, limit: int = 1000
) -> Work:
    """``submitted``, ``claimed`` and ``due`` in one read transaction (five round trips on
    PostgreSQL, where three reads of their own take nine)."""
    with db.reading() as cur:
        jobs, claims, due_rows = cur.all_of(
            [_submitted(limit, slots), _claimed(limit, slots), _due(now, due_limit, slots)]
        )
    return Work(
        submitted=[(r["request_id"], r["job_id"], int(r["version"])) for r in jobs],
        claimed=[(r["request_id"], int(r["version"])) for r in claims],
        due=[r["request_id"] for r in due_rows],
    )


def health(
    db: ViewDB,
    now: datetime,
    window_s: float,
    limit: int = 20,
    live: tuple[int, int] | None = None,
    probe_lease_s: float = 30.0,
) -> dict[str, Any]:
    """The breaker health view (the latest breaker's, or OK when no breaker moved yet).
    ``live`` is the (calls, failures) of the shared window now; without it (a replay as of
    a past moment) the ratio and calls are those of the last transition."""
    with db.reading() as cur:  # one read transaction: one consistent view, one connection
        return _health(cur, now, window_s, limit, live, probe_lease_s)


def _health(
    cur: Cursor,
    now: datetime,
    window_s: float,
    limit: int,
    live: tuple[int, int] | None,
    probe_lease_s: float,
) -> dict[str, Any]:
    latest = cur.all("SELECT * FROM pq_breaker ORDER BY at DESC, seq DESC LIMIT 1")
    found = {r["status"]: int(r["n"]) for r in cur.all("SELECT status, n FROM pq_counts")}
    counted = {status: found.get(status, 0) for status in STATUSES}
    backlog = counted["QUEUED"] + counted["RETRYING"]
    oldest_rows = cur.all(
        "SELECT MIN(queued_at) AS oldest FROM pq_intents WHERE status IN ('QUEUED', 'RETRYING')"
    )
    oldest = oldest_rows[0]["oldest"] if oldest_rows else None
    transitions: list[dict[str, Any]] = []
    state, since, ratio, calls, vendor = "OK", None, 0.0, 0, None
    open_until = probe_until = None
    if latest:
        top = latest[0]
        state, since = top["to_state"], iso(top["at"])
        open_until = iso(top["open_until"])
        if state == "RECOVERING":
            probe_until = iso(top["at"] + probe_lease_s)
        ratio, calls, vendor = top["failure_ratio"], top["calls"], top["vendor"]
        rows = cur.all(
            "SELECT * FROM pq_breaker WHERE breaker_id = ? AND from_state IS NOT NULL"
            " ORDER BY seq DESC LIMIT ?",
            (top["breaker_id"], limit),
        )
        transitions = [
            {
                "at": iso(r["at"]),
                "from": r["from_state"],
                "to": r["to_state"],
                "reason": r["reason"],
                "failure_ratio": r["failure_ratio"],
                "calls": r["calls"],
                "open_until": iso(r["open_until"]),
            }
            for r in reversed(rows)
        ]
    if live is not None:
        calls, ratio = live[0], round(live[1] / live[0], 4) if live[0] else 0.0
    held = None
    if vendor is not None:
        holds = cur.all("SELECT * FROM pq_holds WHERE vendor = ?", (vendor,))
        if holds:
            hold = holds[0]
            held = {"by": hold["held_by"], "reason": hold["reason"], "since": iso(hold["since"])}
    return {
        "vendor": vendor,
        "held": held,
        "state": state,
        "since": since,
        "open_until": open_until,
        "probe_until": probe_until,
        "failure_ratio": ratio,
        "calls_in_window": calls,
        "window_s": window_s,
        "backlog": backlog,
        "oldest_queued_age_s": round(now.timestamp() - oldest, 3) if oldest is not None else None,
        "transitions": transitions,
    }
