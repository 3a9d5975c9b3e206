"""Damaged events, as the views' catch-up finds them.

A stored event that cannot be decoded (or applied) is recorded here and skipped: the
catch-up goes on with the rest of the log, so one bad event never stops the views, the
worker or any other intent. The intent keeps the status of its events read so far; its row
is marked through this table (``waiting_for`` says "trail damaged at event N"), and the
worker neither claims nor follows it while it stays here.

    pq_damaged   notification id -> aggregate id, position (version), reason

The rows are written in the same transaction that moves the views' position past the
event, so a rebuild from the log (``replay``) records exactly the same rows.

A row whose stored version is no position (``domain.version.BadVersion``: TEXT, NULL,
0...) cannot say which event it was: it is named at its aggregate's next position, the
one after the last event the views applied of it (where the trail now misses an event,
as ``verify`` finds it too).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from proofqueue.domain.version import BadVersion, checked
from proofqueue.projections.store import Cursor, ViewDB

log = logging.getLogger("proofqueue.views")

TABLE = """CREATE TABLE IF NOT EXISTS pq_damaged (
        notification_id BIGINT PRIMARY KEY,
        aggregate_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        reason TEXT NOT NULL)"""


@dataclass(frozen=True)
class Damaged:
    """One stored event the views could not use."""

    notification_id: int
    aggregate_id: str
    version: int
    reason: str
    placed: bool = True  # False: its stored version is no position (``record`` places it)


def of_note(note: Any, exc: BaseException) -> Damaged:
    reason = getattr(exc, "reason", None) or " ".join(str(exc).split()) or type(exc).__name__
    version = checked(note.originator_version)
    return Damaged(
        int(note.id),
        aggregate_key(note.originator_id),
        int(version),
        reason[:300],
        placed=not isinstance(version, BadVersion),
    )


def aggregate_key(originator_id: object) -> str:
    """The aggregate id as the views spell it (``str(UUID)``), whatever the store gave."""
    text = str(originator_id)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


def record(cur: Cursor, found: Iterable[Damaged]) -> None:
    """Record ``found``; the batch's heads (``pq_heads``) are written before, for those
    to be placed."""
    for item in _placed(cur, list(found)):
        cur.run(
            "INSERT INTO pq_damaged (notification_id, aggregate_id, version, reason)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (notification_id) DO NOTHING",
            (item.notification_id, item.aggregate_id, item.version, item.reason),
        )
        log.error(
            "damaged event skipped: aggregate %s event %d (notification %d): %s",
            item.aggregate_id,
            item.version,
            item.notification_id,
            item.reason,
        )


def _placed(cur: Cursor, found: list[Damaged]) -> list[Damaged]:
    """``found``, each one not placed at its aggregate's next position."""
    loose = sorted({item.aggregate_id for item in found if not item.placed})
    if not loose:
        return found
    marks = ", ".join("?" for _ in loose)
    rows = cur.all(
        f"SELECT aggregate_id, version FROM pq_heads WHERE aggregate_id IN ({marks})",  # noqa: S608  (placeholders)
        tuple(loose),
    )
    heads = {str(r["aggregate_id"]): int(r["version"]) for r in rows}
    return [
        item if item.placed else replace(item, version=heads.get(item.aggregate_id, 0) + 1)
        for item in found
    ]


def listing(db: ViewDB, limit: int = 1000) -> list[dict[str, Any]]:
    """Every damaged event (the first of each aggregate first), with the request_id of its
    intent when the views know it: ``{"intent", "request_id", "aggregate_id", "event",
    "reason"}``."""
    rows = db.query(
        "SELECT d.notification_id, d.aggregate_id, d.version, d.reason, i.request_id,"
        " b.vendor FROM pq_damaged d"
        " LEFT JOIN pq_intents i ON i.intent_id = d.aggregate_id"
        " LEFT JOIN pq_breaker b ON b.breaker_id = d.aggregate_id AND b.seq = 1"
        " ORDER BY d.aggregate_id, d.version LIMIT ?",
        (limit,),
    )
    return [
        {
            "intent": r["request_id"]
            or (f"breaker of {r['vendor']}" if r["vendor"] else r["aggregate_id"]),
            "request_id": r["request_id"],
            "aggregate_id": r["aggregate_id"],
            "event": int(r["version"]),
            "reason": r["reason"],
        }
        for r in rows
    ]


def first_of(cur: Cursor, aggregate_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """The first damaged event (position, reason) of each of ``aggregate_ids`` that has one."""
    if not aggregate_ids:
        return {}
    marks = ", ".join("?" for _ in aggregate_ids)
    rows = cur.all(
        "SELECT aggregate_id, version, reason FROM pq_damaged"  # noqa: S608  (placeholders)
        f" WHERE aggregate_id IN ({marks}) ORDER BY version DESC",
        tuple(aggregate_ids),
    )
    return {str(r["aggregate_id"]): (int(r["version"]), str(r["reason"])) for r in rows}


def named(items: list[dict[str, Any]], most: int = 3) -> str:
    """One line naming damaged events: ``'x' event 2, 'y' event 1 and 3 more``."""
    shown = [f"{item['intent']!r} event {item['event']}" for item in items[:most]]
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(shown) + more
