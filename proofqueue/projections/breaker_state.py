"""The breaker's state as one row, kept by the views: a process that needs a breaker it has
not loaded yet starts from this row and reads only the events after it, however many
transitions the breaker has made (``IntentLog.breaker_log`` with a seed).

    pq_breaker_state   breaker_id -> version, proof head, the last transition, the prober,
                       the hold; times as ISO 8601 text (exact, as the events hold them)

Each breaker event is checked against the row before it is applied: it must be the next
version and its hash must chain from the row's proof head, or it is refused (the catch-up
records it as damaged, and the row stays at the last good event). So the row only ever
holds what a full, chain-checked load would give.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from proofqueue.domain.breaker import BreakerState, Transition
from proofqueue.domain.breaker_log import BreakerLog, Hold
from proofqueue.domain.chained import event_fields
from proofqueue.domain.proof import GENESIS, event_hash
from proofqueue.projections.store import Cursor, ViewDB

TABLE = """CREATE TABLE IF NOT EXISTS pq_breaker_state (
        breaker_id TEXT PRIMARY KEY,
        vendor TEXT NOT NULL,
        version INTEGER NOT NULL,
        proof_head TEXT NOT NULL,
        last_event TEXT NOT NULL,
        created_on TEXT NOT NULL,
        modified_on TEXT NOT NULL,
        at TEXT,
        from_state TEXT,
        to_state TEXT,
        reason TEXT,
        failure_ratio DOUBLE PRECISION,
        calls INTEGER,
        window_start TEXT,
        open_until TEXT,
        trips INTEGER,
        prober TEXT,
        probe_until TEXT,
        held_by TEXT,
        held_reason TEXT,
        held_since TEXT)"""

_EVENTS = {cls.__name__: cls for cls in (BreakerLog.Opened, BreakerLog.Transitioned,
                                          BreakerLog.Held, BreakerLog.Released)}  # fmt: skip


class BrokenChain(ValueError):
    """A breaker event that does not follow the state row: damaged."""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def apply_event(cur: Cursor, event: Any) -> None:
    """Move the state row by one breaker event (checked against the row first)."""
    key = str(event.originator_id)
    row = cur.one("SELECT version, proof_head FROM pq_breaker_state WHERE breaker_id = ?", (key,))
    if isinstance(event, BreakerLog.Opened):
        _check(event, key, 0, GENESIS)
        cur.run(
            "INSERT INTO pq_breaker_state (breaker_id, vendor, version, proof_head, last_event,"
            " created_on, modified_on) VALUES (?, ?, 1, ?, ?, ?, ?)",
            (key, event.vendor, event.hash, "Opened", _iso(event.timestamp),
             _iso(event.timestamp)),
        )  # fmt: skip
        return
    if row is None:
        return  # a breaker whose row was never made (a store older than the row): loaded whole
    _check(event, key, int(row["version"]), str(row["proof_head"]))
    common = (event.originator_version, event.hash, type(event).__name__, _iso(event.timestamp))
    if isinstance(event, BreakerLog.Transitioned):
        cur.run(TRANSITIONED, transitioned(event, key))
    elif isinstance(event, BreakerLog.Held):
        cur.run(
            "UPDATE pq_breaker_state SET version = ?, proof_head = ?, last_event = ?,"
            " modified_on = ?, held_by = ?, held_reason = ?, held_since = ?"
            " WHERE breaker_id = ?",
            (*common, event.operator, event.reason, _iso(event.timestamp), key),
        )
    elif isinstance(event, BreakerLog.Released):
        cur.run(
            "UPDATE pq_breaker_state SET version = ?, proof_head = ?, last_event = ?,"
            " modified_on = ?, held_by = NULL, held_reason = NULL, held_since = NULL"
            " WHERE breaker_id = ?",
            (*common, key),
        )


TRANSITIONED = (
    "UPDATE pq_breaker_state SET version = ?, proof_head = ?, last_event = ?,"
    " modified_on = ?, at = ?, from_state = ?, to_state = ?, reason = ?,"
    " failure_ratio = ?, calls = ?, window_start = ?, open_until = ?, trips = ?,"
    " prober = ?, probe_until = ? WHERE breaker_id = ?"
)


def transitioned(event: Any, key: str) -> tuple[Any, ...]:
    """The parameters of ``TRANSITIONED`` for a Transitioned event of breaker ``key``."""
    probing = event.to_state == BreakerState.RECOVERING
    return (
        event.originator_version, event.hash, type(event).__name__, _iso(event.timestamp),
        _iso(event.timestamp), event.from_state, event.to_state, event.reason,
        event.failure_ratio, event.calls, _iso(event.window_start), _iso(event.open_until),
        event.trips, event.worker if probing else None, _iso(event.probe_until), key,
    )  # fmt: skip


def check(event: Any, key: str, version: int, head: str) -> None:
    """Raise BrokenChain unless ``event`` is the next one of a breaker at ``version`` whose
    proof head is ``head``, its hash recomputed from its content."""
    _check(event, key, version, head)


def _check(event: Any, key: str, version: int, head: str) -> None:
    seq = version + 1
    if event.originator_version != seq:
        raise BrokenChain(f"expected event {seq}, found {event.originator_version}")
    recomputed = event_hash(
        key, seq, type(event).__name__, event.timestamp.isoformat(), event_fields(event), head
    )
    if recomputed != event.hash:
        raise BrokenChain("hash does not match its content and predecessor")


def load(db: ViewDB, key: str) -> BreakerLog | None:
    """The breaker as its state row leaves it (the version the row is at), or None."""
    rows = db.query("SELECT * FROM pq_breaker_state WHERE breaker_id = ?", (key,))
    if not rows:
        return None
    return from_row(rows[0])


def from_row(row: dict[str, Any]) -> BreakerLog:
    """A BreakerLog aggregate holding exactly the state of the row."""
    log: Any = object.__new__(BreakerLog)
    created = _time(row["created_on"])
    log.__dict__.update(
        _id=uuid.UUID(str(row["breaker_id"])),
        _version=int(row["version"]),
        _created_on=created,
        _modified_on=_time(row["modified_on"]),
        _pending_events=[],
        vendor=row["vendor"],
        last=None,
        prober=row["prober"],
        probe_until=_time(row["probe_until"]),
        hold=None,
        proof_head=row["proof_head"],
        last_event=_EVENTS[str(row["last_event"])],
    )
    if row["to_state"] is not None:
        log.last = Transition(
            at=_time(row["at"]),  # type: ignore[arg-type]
            from_state=BreakerState(row["from_state"]),
            to_state=BreakerState(row["to_state"]),
            reason=row["reason"],
            failure_ratio=row["failure_ratio"],
            calls=int(row["calls"]),
            window_start=_time(row["window_start"]),  # type: ignore[arg-type]
            open_until=_time(row["open_until"]),
            trips=int(row["trips"]),
        )
    if row["held_by"] is not None:
        log.hold = Hold(row["held_by"], row["held_reason"], _time(row["held_since"]))  # type: ignore[arg-type]
    return log  # type: ignore[no-any-return]
