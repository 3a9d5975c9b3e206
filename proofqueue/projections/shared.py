"""Tables the workers share directly (written by workers, not built from events): the
breaker's window of calls, counted per vendor and per second, and the workers' heartbeats.

Times here are the store's: PostgreSQL's server clock, or the clock of the machine that
holds the SQLite file (every process on a SQLite store runs there). So a worker whose own
clock is minutes off still counts its calls into the same seconds as everyone else, and is
judged alive by the same clock.

    pq_calls    vendor, second -> calls, failures       (O(1) to record; a window is a sum
                                                        over at most window_s rows)
    pq_workers  worker -> host, pid, started, last seen, beats, calls in flight
    pq_work     intent -> when its job is read next; why it cannot be attempted (until when)
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from proofqueue.domain.heartbeat import Heartbeat
from proofqueue.projections.store import Cursor, ViewDB

log = logging.getLogger("proofqueue")

TABLES = {
    "pq_calls": (
        """CREATE TABLE IF NOT EXISTS pq_calls (
            vendor TEXT NOT NULL,
            second BIGINT NOT NULL,
            calls INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            PRIMARY KEY (vendor, second))""",
    ),
    "pq_work": (
        """CREATE TABLE IF NOT EXISTS pq_work (
            intent_id TEXT PRIMARY KEY,
            next_read_at DOUBLE PRECISION,
            blocked TEXT,
            blocked_until DOUBLE PRECISION)""",
    ),
    "pq_workers": (
        """CREATE TABLE IF NOT EXISTS pq_workers (
            worker TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            last_seen_at DOUBLE PRECISION NOT NULL,
            beats BIGINT NOT NULL,
            in_flight INTEGER NOT NULL,
            stopped INTEGER NOT NULL)""",
    ),
}

# A read schedule this far in the past is stale: nobody follows that job any more.
STALE_S = 600.0
# How long a second's count is kept (the window is far shorter; the rest is for health).
KEEP_S = 3600


def store_now(db: ViewDB) -> str:
    """SQL for the store's clock, in seconds since the epoch (a float)."""
    if db.dialect == "postgres":
        return "EXTRACT(EPOCH FROM clock_timestamp())::DOUBLE PRECISION"
    return "((julianday('now') - 2440587.5) * 86400.0)"


@dataclass(frozen=True)
class Window:
    """Calls and failures of one vendor in the last ``seconds`` (by the store's clock)."""

    calls: int = 0
    failures: int = 0

    @property
    def ratio(self) -> float:
        return self.failures / self.calls if self.calls else 0.0

    def plus(self, calls: int, failures: int) -> Window:
        return Window(self.calls + calls, self.failures + failures)


def record_calls(cur: Cursor, vendor: str, calls: int, failures: int) -> None:
    """Add calls to the store's current second: one upsert, whatever the window holds."""
    if not calls:
        return
    now = store_now(cur.db)
    cur.run(
        "INSERT INTO pq_calls (vendor, second, calls, failures)"  # noqa: S608  (fixed SQL)
        f" VALUES (?, CAST(FLOOR({now}) AS BIGINT), ?, ?)"
        " ON CONFLICT (vendor, second) DO UPDATE SET calls = pq_calls.calls + excluded.calls,"
        " failures = pq_calls.failures + excluded.failures",
        (vendor, calls, failures),
    )


def prune_calls(cur: Cursor) -> None:
    now = store_now(cur.db)
    cur.run(f"DELETE FROM pq_calls WHERE second < FLOOR({now}) - ?", (KEEP_S,))  # noqa: S608


def window(cur: Cursor, vendor: str, seconds: float, since: datetime | None = None) -> Window:
    """The vendor's calls in the last ``seconds`` seconds, the current one included; with
    ``since`` (when the breaker came back to OK), none of that second or before."""
    now = store_now(cur.db)
    start = math.floor(since.timestamp()) if since is not None else -1
    row = cur.one(
        "SELECT COALESCE(SUM(calls), 0) AS calls, COALESCE(SUM(failures), 0) AS failures"  # noqa: S608
        f" FROM pq_calls WHERE vendor = ? AND second > FLOOR({now}) - ? AND second > ?",
        (vendor, seconds, start),
    )
    return Window(int(row["calls"]), int(row["failures"])) if row else Window()


def live_window(cur: Cursor, vendor: str, seconds: float) -> Window:
    """The window the vendor's breaker judges now, as the views know its state."""
    row = cur.one(
        "SELECT from_state, to_state, at FROM pq_breaker WHERE vendor = ?"
        " ORDER BY at DESC, seq DESC LIMIT 1",
        (vendor,),
    )
    since = None
    if row and row["to_state"] == "OK" and row["from_state"] is not None:
        since = datetime.fromtimestamp(float(row["at"]), UTC)
    return window(cur, vendor, seconds, since)


def note_work(
    cur: Cursor,
    reads: Mapping[str, float | None],
    blocked: Mapping[str, tuple[str, float]],
) -> None:
    """Record when jobs are read next and which intents cannot be attempted (and why); a
    job no longer followed (None) and a block that ran out leave no row behind. Rows are
    written in key order, one statement for each kind: two workers writing rows of the
    same intents (while their slots change hands) lock them in the same order."""
    now = time.time()
    cur.many(
        "DELETE FROM pq_work WHERE intent_id = ? AND (blocked_until IS NULL OR blocked_until < ?)",
        [(intent_id, now) for intent_id, at in sorted(reads.items()) if at is None],
    )
    cur.many(
        "INSERT INTO pq_work (intent_id, next_read_at) VALUES (?, ?)"
        " ON CONFLICT (intent_id) DO UPDATE SET next_read_at = excluded.next_read_at",
        [(intent_id, at) for intent_id, at in sorted(reads.items()) if at is not None],
    )
    cur.many(
        "INSERT INTO pq_work (intent_id, blocked, blocked_until) VALUES (?, ?, ?)"
        " ON CONFLICT (intent_id) DO UPDATE SET blocked = excluded.blocked,"
        " blocked_until = excluded.blocked_until",
        [(intent_id, why, until) for intent_id, (why, until) in sorted(blocked.items())],
    )


def prune_work(cur: Cursor) -> None:
    """Drop rows that say nothing current: no block in force and no read due in the last
    ``STALE_S`` (a followed job is read far more often: its worker stopped, or it settled
    before that worker's next heartbeat)."""
    now = time.time()
    cur.run(
        "DELETE FROM pq_work WHERE (blocked_until IS NULL OR blocked_until < ?)"
        " AND (next_read_at IS NULL OR next_read_at < ?)",
        (now, now - STALE_S),
    )


def work_of(cur: Cursor, intent_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not intent_ids:
        return {}
    marks = ", ".join("?" for _ in intent_ids)
    rows = cur.all(f"SELECT * FROM pq_work WHERE intent_id IN ({marks})", intent_ids)  # noqa: S608
    return {str(r["intent_id"]): r for r in rows}


def latest_vendor(cur: Cursor) -> str | None:
    """The vendor whose breaker moved last, else the one called last."""
    row = cur.one("SELECT vendor FROM pq_breaker ORDER BY at DESC, seq DESC LIMIT 1")
    if row is None:
        row = cur.one("SELECT vendor FROM pq_calls ORDER BY second DESC LIMIT 1")
    return str(row["vendor"]) if row else None


def beat(cur: Cursor, me: Heartbeat) -> None:
    """Write this worker's heartbeat (its last-seen time is the store's now)."""
    now = store_now(cur.db)
    cur.run(
        "INSERT INTO pq_workers (worker, host, pid, started_at, last_seen_at, beats,"  # noqa: S608
        f" in_flight, stopped) VALUES (?, ?, ?, ?, {now}, 1, ?, ?)"
        " ON CONFLICT (worker) DO UPDATE SET last_seen_at = excluded.last_seen_at,"
        " beats = pq_workers.beats + 1, in_flight = excluded.in_flight,"
        " stopped = excluded.stopped",
        (me.worker, me.host, me.pid, me.started_at, me.in_flight, int(me.stopped)),
    )


def workers(cur: Cursor, lease_s: float) -> list[dict[str, Any]]:
    """Every worker that beat in the last hour, with ``alive``: its last heartbeat is
    younger than the lease and it has not stopped."""
    now = store_now(cur.db)
    rows = cur.all(
        f"SELECT worker, host, pid, started_at, last_seen_at, in_flight, stopped, {now} AS now"  # noqa: S608
        " FROM pq_workers ORDER BY started_at, worker"
    )
    found = []
    for row in rows:
        age = float(row["now"]) - float(row["last_seen_at"])
        if age > KEEP_S:
            continue
        found.append({**row, "age_s": age, "alive": age < lease_s and not row["stopped"]})
    return found


def live_workers(cur: Cursor, lease_s: float) -> list[str]:
    """Names of the workers alive now, sorted: the partition of work follows this list."""
    return sorted(row["worker"] for row in workers(cur, lease_s) if row["alive"])


def ensure_tables(db: ViewDB, tables: Iterable[str] = TABLES) -> None:
    """Create the shared tables that a store made by an earlier version lacks."""
    if db.dialect == "postgres":
        present = {
            r["name"]
            for r in db.query(
                "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
            )
        }
    else:
        present = {
            r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    missing = [name for name in tables if name not in present]
    if not missing:
        return
    with db.transaction() as cur:
        if db.dialect == "postgres":
            cur.run("SELECT pg_advisory_xact_lock(7270917)")
        for name in missing:
            for statement in TABLES[name]:
                cur.run(statement)


def store_time(db: ViewDB) -> float:
    """The store's clock now, in seconds since the epoch."""
    row = db.query(f"SELECT {store_now(db)} AS now")
    return float(row[0]["now"])


class StoreClock:
    """The store's time, read through this process's clock: every process on one
    PostgreSQL store schedules by the server's clock, so a host whose clock runs minutes
    ahead neither delays nor hastens the others' work. The offset is measured at once and
    again every ``resync_s``; a failed measurement keeps the last one."""

    def __init__(self, db: ViewDB, resync_s: float = 60.0) -> None:
        self.db = db
        self.resync_s = resync_s
        self.offset = timedelta(0)
        self._synced_at = -math.inf
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        if time.monotonic() - self._synced_at >= self.resync_s:
            self.sync()
        return datetime.now(UTC) + self.offset

    def sync(self) -> None:
        with self._lock:
            if time.monotonic() - self._synced_at < self.resync_s:
                return  # another thread measured it meanwhile
            self._synced_at = time.monotonic()
            try:
                before = time.time()
                server = store_time(self.db)
                after = time.time()
            except Exception:  # the store is away: keep the last offset, try again later
                log.warning("could not read the store's clock; keeping the last offset")
                return
            self.offset = timedelta(seconds=server - (before + after) / 2)
