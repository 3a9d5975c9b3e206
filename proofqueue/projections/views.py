"""Read models built from the log: the operator list (which is also the due-work list) and
the breaker's transitions. Tables are plain SQL that runs on SQLite and PostgreSQL.

    pq_position   name -> last applied notification id (the tracking record)
    pq_intents    one row per intent: status, attempts, last error, next attempt, ...
    pq_breaker    one row per breaker event: vendor, state moves and their reasons
    pq_damaged    stored events the catch-up could not decode or apply, skipped (damage.py)
    pq_metrics, pq_backlog_moves   counters and the backlog's history (series.py)
    pq_tlog_*     the transparency tree over terminal receipts and its checkpoints
                  (``tlog.py``; created apart, so stores with older views get them too)

Each batch of events is applied in the same transaction that advances ``pq_position``
(compare-and-set), so every event is applied exactly once even with several runners.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from proofqueue.domain.breaker_log import BreakerLog
from proofqueue.domain.intent import Intent
from proofqueue.domain.transparency_log import TransparencyLog
from proofqueue.projections import breaker_state, damage, series, tlog
from proofqueue.projections.store import Cursor, ViewDB

# Tables added after the first release: created on stores whose views exist already.
TABLES = {
    "pq_holds": (
        """CREATE TABLE IF NOT EXISTS pq_holds (
        vendor TEXT PRIMARY KEY,
        held_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        since DOUBLE PRECISION NOT NULL)""",
    ),
    # How many intents are in each status, kept as events are applied: counts and the
    # backlog answer at once at any size. Filled from pq_intents when first created.
    "pq_counts": (
        """CREATE TABLE IF NOT EXISTS pq_counts (
        status TEXT PRIMARY KEY,
        n BIGINT NOT NULL)""",
        "INSERT INTO pq_counts (status, n) SELECT status, COUNT(*) FROM pq_intents GROUP BY status",
    ),
    "pq_damaged": (damage.TABLE,),
    **series.TABLES,
    # Each breaker's state as one row, so a process loads a breaker in constant time.
    "pq_breaker_state": (breaker_state.TABLE,),
}

# Indexes added after the first release: created on stores whose views exist already.
INDEXES = (
    (
        "pq_intents_due",
        """CREATE INDEX IF NOT EXISTS pq_intents_due ON pq_intents (next_attempt_at)
        WHERE status IN ('QUEUED', 'RETRYING') AND claim_until IS NULL""",
    ),
    (
        # health: the latest breaker event first, at once however many there are
        "pq_breaker_at",
        "CREATE INDEX IF NOT EXISTS pq_breaker_at ON pq_breaker (at, seq)",
    ),
    (
        # keyset paging of the operator list (a cursor): the whole sort key
        "pq_intents_page",
        "CREATE INDEX IF NOT EXISTS pq_intents_page ON pq_intents"
        " (sort_rank, queued_at, request_id)",
    ),
    (
        "pq_intents_claimed",
        """CREATE INDEX IF NOT EXISTS pq_intents_claimed ON pq_intents (claim_until)
        WHERE status IN ('QUEUED', 'RETRYING') AND claim_until IS NOT NULL""",
    ),
)

# Columns added after the first release: added to stores whose views exist already.
COLUMNS = (("pq_intents", "job_note", "TEXT"),)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS pq_position (
        name TEXT PRIMARY KEY,
        position BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS pq_intents (
        intent_id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        sort_rank INTEGER NOT NULL,
        actor TEXT NOT NULL,
        target TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        next_attempt_at DOUBLE PRECISION,
        claim_until DOUBLE PRECISION,
        queued_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        job_id TEXT,
        deliverable_id TEXT,
        settled_at DOUBLE PRECISION,
        version INTEGER NOT NULL,
        job_note TEXT)""",
    "CREATE INDEX IF NOT EXISTS pq_intents_rank ON pq_intents (sort_rank, queued_at)",
    "CREATE INDEX IF NOT EXISTS pq_intents_actor ON pq_intents (actor, sort_rank, queued_at)",
    "CREATE INDEX IF NOT EXISTS pq_intents_target ON pq_intents (target, sort_rank, queued_at)",
    """CREATE INDEX IF NOT EXISTS pq_intents_open ON pq_intents (queued_at)
        WHERE status IN ('QUEUED', 'RETRYING')""",
    """CREATE INDEX IF NOT EXISTS pq_intents_submitted ON pq_intents (updated_at)
        WHERE status = 'SUBMITTED'""",
    *(statement for statements in TABLES.values() for statement in statements),
    """CREATE TABLE IF NOT EXISTS pq_breaker (
        breaker_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        vendor TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL,
        failure_ratio DOUBLE PRECISION NOT NULL,
        calls INTEGER NOT NULL,
        open_until DOUBLE PRECISION,
        trips INTEGER NOT NULL,
        worker TEXT,
        PRIMARY KEY (breaker_id, seq))""",
    *(index for _, index in INDEXES),
)

# Queued and retrying first: what an operator looks at during an outage.
RANK = {"QUEUED": 0, "RETRYING": 1, "SUBMITTED": 2, "FAILED": 3, "SETTLED": 4}


def ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def _has_schema(db: ViewDB) -> bool:
    if db.dialect == "postgres":
        rows = db.query("SELECT to_regclass('pq_breaker') IS NOT NULL AS found")
    else:
        rows = db.query(
            "SELECT COUNT(*) > 0 AS found FROM sqlite_master WHERE type = 'table'"
            " AND name = 'pq_breaker'"
        )
    return bool(rows and rows[0]["found"])


def _tables(db: ViewDB) -> set[str]:
    if db.dialect == "postgres":
        rows = db.query(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        )
    else:
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(r["name"]) for r in rows}


def _indexes(db: ViewDB) -> set[str]:
    if db.dialect == "postgres":
        rows = db.query(
            "SELECT indexname AS name FROM pg_indexes"
            " WHERE schemaname = current_schema() AND starts_with(tablename, 'pq_')"
        )
    else:
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {str(r["name"]) for r in rows}


def _columns(db: ViewDB, table: str) -> set[str]:
    if db.dialect == "postgres":
        rows = db.query(
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
    else:
        rows = db.query(f"PRAGMA table_info({table})")
    return {str(r["name"]) for r in rows}


# The secondary indexes: a throwaway store being rebuilt (replay) makes them at the end,
# in one pass each, instead of keeping them up to date row by row.
DEFERRABLE = tuple(statement for statement in SCHEMA if "CREATE INDEX" in statement)


def create_indexes(db: ViewDB) -> None:
    """Create the secondary indexes a ``create_schema(..., indexes=False)`` left out."""
    with db.transaction() as cur:
        for statement in DEFERRABLE:
            cur.run(statement)


def create_schema(db: ViewDB, names: Iterable[str], *, indexes: bool = True) -> None:
    """Create the views' tables once. Processes starting together serialize on a lock (on
    PostgreSQL an advisory lock), and DDL is skipped once the tables exist: it would take
    table locks that deadlock with running catch-ups. ``indexes=False`` (a new throwaway
    store only) leaves the secondary indexes to ``create_indexes``."""
    if not _has_schema(db):
        with db.transaction() as cur:
            if db.dialect == "postgres":
                cur.run("SELECT pg_advisory_xact_lock(7270917)")
            for statement in SCHEMA:
                if indexes or statement not in DEFERRABLE:
                    cur.run(statement)
    present = _tables(db)
    missing = [
        statement
        for name, statements in TABLES.items()
        if name not in present
        for statement in statements
    ]
    if indexes:
        missing += [statement for name, statement in INDEXES if name not in _indexes(db)]
    missing += [
        f"ALTER TABLE {table} ADD COLUMN {column} {kind}"
        for table, column, kind in COLUMNS
        if column not in _columns(db, table)
    ]
    if missing:
        with db.transaction() as cur:
            if db.dialect == "postgres":
                cur.run("SELECT pg_advisory_xact_lock(7270917)")
            for statement in missing:
                cur.run(statement)
    for name in names:
        if not db.query("SELECT 1 AS found FROM pq_position WHERE name = ?", (name,)):
            with db.transaction() as cur:
                cur.run(
                    "INSERT INTO pq_position (name, position) VALUES (?, 0)"
                    " ON CONFLICT (name) DO NOTHING",
                    (name,),
                )


def apply_event(cur: Cursor, event: object) -> None:
    """Apply one decoded event to the views. Branches on the event class."""
    if isinstance(event, Intent.Event | Intent.Created):
        _apply_intent(cur, event)
        tlog.apply_event(cur, event)  # after the intent's row: a leaf is read from it
        return
    if isinstance(event, TransparencyLog.Event):
        tlog.apply_event(cur, event)
        return
    if isinstance(event, BreakerLog.Event | BreakerLog.Created):
        breaker_state.apply_event(cur, event)  # refuses an event off the breaker's chain
    if isinstance(event, BreakerLog.Opened):
        cur.run(
            "INSERT INTO pq_breaker (breaker_id, seq, vendor, at, from_state, to_state, reason,"
            " failure_ratio, calls, open_until, trips, worker)"
            " VALUES (?, ?, ?, ?, NULL, 'OK', 'breaker opened', 0, 0, NULL, 0, NULL)",
            (str(event.originator_id), event.originator_version, event.vendor, ts(event.timestamp)),
        )
    elif isinstance(event, BreakerLog.Held):
        cur.run(
            "INSERT INTO pq_holds (vendor, held_by, reason, since)"
            " SELECT vendor, ?, ?, ? FROM pq_breaker WHERE breaker_id = ? AND seq = 1",
            (event.operator, event.reason, ts(event.timestamp), str(event.originator_id)),
        )
    elif isinstance(event, BreakerLog.Released):
        cur.run(
            "DELETE FROM pq_holds WHERE vendor IN"
            " (SELECT vendor FROM pq_breaker WHERE breaker_id = ? AND seq = 1)",
            (str(event.originator_id),),
        )
    elif isinstance(event, BreakerLog.Transitioned):
        cur.run(
            "INSERT INTO pq_breaker (breaker_id, seq, vendor, at, from_state, to_state, reason,"
            " failure_ratio, calls, open_until, trips, worker)"
            " SELECT ?, ?, vendor, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM pq_breaker"
            " WHERE breaker_id = ? AND seq = 1",
            (
                str(event.originator_id),
                event.originator_version,
                ts(event.timestamp),
                event.from_state,
                event.to_state,
                event.reason,
                event.failure_ratio,
                event.calls,
                ts(event.open_until),
                event.trips,
                event.worker,
                str(event.originator_id),
            ),
        )


def _apply_intent(cur: Cursor, event: Any) -> None:
    key = str(event.originator_id)
    before = cur.one("SELECT status, claim_until FROM pq_intents WHERE intent_id = ?", (key,))
    _apply_row(cur, event, key)
    after = cur.one("SELECT status FROM pq_intents WHERE intent_id = ?", (key,))
    series.apply_intent(cur, event, before, after)
    old, new = before and before["status"], after and after["status"]
    if old != new:
        if old:
            cur.run("UPDATE pq_counts SET n = n - 1 WHERE status = ?", (old,))
        if new:
            cur.run(
                "INSERT INTO pq_counts (status, n) VALUES (?, 1)"
                " ON CONFLICT (status) DO UPDATE SET n = pq_counts.n + 1",
                (new,),
            )


def _apply_row(cur: Cursor, event: Any, key: str) -> None:
    at = ts(event.timestamp)
    common = (at, event.originator_version, key)
    if isinstance(event, Intent.Queued):
        cur.run(
            "INSERT INTO pq_intents (intent_id, request_id, status, sort_rank, actor, target,"
            " attempts, last_error, next_attempt_at, claim_until, queued_at, updated_at, job_id,"
            " deliverable_id, settled_at, version)"
            " VALUES (?, ?, 'QUEUED', 0, ?, ?, 0, NULL, ?, NULL, ?, ?, NULL, NULL, NULL, ?)",
            (key, event.request_id, event.actor, event.target, at, at, at, 1),
        )
    elif isinstance(event, Intent.AttemptStarted):
        cur.run(
            "UPDATE pq_intents SET attempts = ?, claim_until = ?,"
            " updated_at = ?, version = ? WHERE intent_id = ?",
            (event.attempt, ts(event.lease_until), *common),
        )
    elif isinstance(event, Intent.RetryScheduled):
        error_sql = "last_error" if event.operator else "?"
        params: tuple[Any, ...] = () if event.operator else (event.detail,)
        cur.run(
            f"UPDATE pq_intents SET status = 'RETRYING', sort_rank = 1, last_error = {error_sql},"  # noqa: S608  (fixed column name, values are bound)
            " next_attempt_at = ?, claim_until = NULL, updated_at = ?, version = ?"
            " WHERE intent_id = ?",
            (*params, ts(event.next_attempt_at), *common),
        )
    elif isinstance(event, Intent.Submitted):
        cur.run(
            "UPDATE pq_intents SET status = 'SUBMITTED', sort_rank = 2, job_id = ?,"
            " job_note = NULL, next_attempt_at = NULL, claim_until = NULL, updated_at = ?,"
            " version = ? WHERE intent_id = ?",
            (event.job_id, *common),
        )
    elif isinstance(event, Intent.JobUnresolved):
        cur.run(
            "UPDATE pq_intents SET job_note = ?, updated_at = ?, version = ? WHERE intent_id = ?",
            (event.detail, *common),
        )
    elif isinstance(event, Intent.Settled):
        cur.run(
            "UPDATE pq_intents SET status = 'SETTLED', sort_rank = 4, deliverable_id = ?,"
            " settled_at = ?, updated_at = ?, version = ? WHERE intent_id = ?",
            (event.deliverable_id, at, *common),
        )
    elif isinstance(event, Intent.Reopened):
        cur.run(
            "UPDATE pq_intents SET status = 'QUEUED', sort_rank = 0, last_error = NULL,"
            " next_attempt_at = ?, claim_until = NULL, updated_at = ?, version = ?"
            " WHERE intent_id = ?",
            (at, *common),
        )
    elif isinstance(event, Intent.Failed):
        cur.run(
            "UPDATE pq_intents SET status = 'FAILED', sort_rank = 3, last_error = ?,"
            " next_attempt_at = NULL, claim_until = NULL, updated_at = ?, version = ?"
            " WHERE intent_id = ?",
            (f"{event.reason}: {event.detail}", *common),
        )
