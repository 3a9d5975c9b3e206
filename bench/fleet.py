"""Figure 7: a backlog on PostgreSQL drained by worker processes, one with 8 calls in flight
against four with 2 each (the same total).

Each run gets a database of its own on the server of ``PROOFQUEUE_TEST_POSTGRES_URL``
(``scripts/with-postgres`` starts one): ``count`` intents are queued there with
``pq.submit_many`` (no vendor), then ``workers`` processes of ``python -m proofqueue worker``
are started with ``PROOFQUEUE_STORE``, ``PROOFQUEUE_VENDOR_URL`` and
``PROOFQUEUE_CONCURRENCY`` (all else default) and stopped with SIGTERM once every intent is
SETTLED or FAILED. Afterwards the log is read back:

- throughput: settled intents / (last ``Settled`` event - first ``AttemptStarted`` event),
  by the events' own timestamps, so the interpreters' start-up is left out (the wall time from
  starting the processes is reported too);
- claim conflicts: ``AttemptStarted`` events with ``takeover`` (a claim taken over after its
  lease) plus event rows the store rejected (a save that lost on optimistic concurrency:
  another process saved the same aggregate version first). Rejected rows are counted as the
  gap in the events table's ``notification_id`` sequence: PostgreSQL never hands a sequence
  value out twice, so ``last_value - count(*)`` is the rows inserted by transactions that
  rolled back. A claim a worker gave up before saving (it loaded the intent already claimed)
  leaves no trace and is not counted;
- store commits: ``xact_commit`` of ``pg_stat_database`` for the run's database, before the
  workers start and after they have exited (their statistics are flushed at exit), less the
  benchmark's own polls. It counts every committed transaction: the events, the views'
  catch-up, the heartbeats, the breaker window's flushes, and reads made in autocommit.
  Broken down (``commits_by_kind``): events = distinct ``xmin`` of the event rows the run
  added (each the transaction that inserted them); views = rows of ``pq_position`` updated
  (each catch-up that applied events moves it once); heartbeats = the ``beats`` counted in
  ``pq_workers``; breaker = rows of ``pq_calls`` inserted or updated (each flush of the
  window with calls in it upserts one); other = the rest (autocommit reads, breaker
  transitions, flushes with no calls, tables made at start).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.intents import build_store
from bench.machine import ROOT
from proofqueue import ProofQueue, Settings

PG_ENV = "PROOFQUEUE_TEST_POSTGRES_URL"
EVENTS = "proofqueue_events"
POLL_S = 0.5


@contextmanager
def database(admin: str) -> Iterator[str]:
    """A fresh database on the server of ``admin``; dropped afterwards."""
    name = f"pq_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _xacts(url: str) -> tuple[int, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _marks(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Counters the breakdown of commits is taken from (``commits_by_kind``)."""
    last = conn.execute(f"SELECT COALESCE(max(notification_id), 0) FROM {EVENTS}").fetchone()  # noqa: S608
    found = {"last_event": int(last[0]) if last else 0}
    rows = conn.execute(
        "SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables"
        " WHERE relname IN ('pq_position', 'pq_calls')"
    ).fetchall()
    stats = {str(name): (int(ins), int(upd)) for name, ins, upd in rows}
    found["views"] = stats.get("pq_position", (0, 0))[1]
    found["breaker"] = sum(stats.get("pq_calls", (0, 0)))
    return found


def _by_kind(conn: psycopg.Connection[Any], before: dict[str, int], commits: int) -> dict[str, int]:
    after = _marks(conn)
    xacts = conn.execute(
        f"SELECT count(DISTINCT xmin::text) FROM {EVENTS} WHERE notification_id > %s",  # noqa: S608
        (before["last_event"],),
    ).fetchone()
    beats = conn.execute("SELECT COALESCE(sum(beats), 0) FROM pq_workers").fetchone()
    kinds = {
        "events": int(xacts[0]) if xacts else 0,
        "views": after["views"] - before["views"],
        "heartbeats": int(beats[0]) if beats else 0,
        "breaker": after["breaker"] - before["breaker"],
    }
    kinds["other"] = commits - sum(kinds.values())
    return kinds


def _rejected_rows(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """(rows in the events table, rows inserted by transactions that rolled back)."""
    rows = conn.execute(f"SELECT count(*), max(notification_id) FROM {EVENTS}").fetchone()  # noqa: S608
    seq = conn.execute(
        f"SELECT last_value, is_called FROM {EVENTS}_notification_id_seq"  # noqa: S608
    ).fetchone()
    count = int(rows[0]) if rows else 0
    handed = int(seq[0]) if seq and seq[1] else 0
    return count, handed - count


def _stop(procs: list[subprocess.Popen[bytes]]) -> list[int | None]:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=60))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait(timeout=10))
    return codes


def _read_log(store: str) -> dict[str, Any]:
    """Claims, takeovers and the first claim and last settlement, from the log's events."""
    claims = takeovers = settled = 0
    first_claim: float | None = None
    last_settled: float | None = None
    with ProofQueue(Settings(store=store)) as pq:
        recorder, mapper = pq.parts.log.recorder, pq.parts.log.mapper
        start = 1
        while batch := recorder.select_notifications(start=start, limit=1000):
            for note in batch:
                name = note.topic.rpartition(".")[2]
                if name not in ("AttemptStarted", "Settled"):
                    continue
                event = mapper.to_domain_event(note)
                at = event.timestamp.timestamp()
                if name == "AttemptStarted":
                    claims += 1
                    takeovers += int(bool(event.takeover))
                    first_claim = at if first_claim is None else min(first_claim, at)
                else:
                    settled += 1
                    last_settled = at if last_settled is None else max(last_settled, at)
            start = batch[-1].id + 1
    return {
        "claims": claims,
        "takeovers": takeovers,
        "settled_events": settled,
        "first_claim": first_claim,
        "last_settled": last_settled,
    }


def fleet_drain(
    url: str, workers: int, concurrency: int, count: int, timeout_s: float, log: str
) -> dict[str, Any]:
    admin = os.environ.get(PG_ENV)
    if not admin:
        raise RuntimeError(f"no PostgreSQL: {PG_ENV} is not set (scripts/with-postgres sets it)")
    with database(admin) as store:
        built = build_store(store, count)
        env = {
            **os.environ,
            "PROOFQUEUE_STORE": store,
            "PROOFQUEUE_VENDOR_URL": url,
            "PROOFQUEUE_CONCURRENCY": str(concurrency),
        }
        with psycopg.connect(store, autocommit=True) as conn:
            marks = _marks(conn)
        commits0, rollbacks0 = _xacts(store)
        polls = 0
        with open(log, "w") as out, psycopg.connect(store, autocommit=True) as conn:
            started = time.time()
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "proofqueue", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
                for _ in range(workers)
            ]
            done = 0
            try:
                deadline = time.monotonic() + timeout_s
                while time.monotonic() < deadline:
                    time.sleep(POLL_S)
                    polls += 1
                    row = conn.execute(
                        "SELECT count(*) FROM pq_intents WHERE status IN ('SETTLED', 'FAILED')"
                    ).fetchone()
                    done = int(row[0]) if row else 0
                    if done >= count or any(p.poll() is not None for p in procs):
                        break
            finally:
                stopped = time.time()
                codes = _stop(procs)
        time.sleep(1.5)  # let the server take in the exited backends' statistics
        commits1, rollbacks1 = _xacts(store)
        # The polls, and the two reads of the counters, are the benchmark's own commits.
        commits = commits1 - commits0 - polls - 1
        with psycopg.connect(store, autocommit=True) as conn:
            events, rejected = _rejected_rows(conn)
            by_kind = _by_kind(conn, marks, commits)
            status = dict(
                conn.execute("SELECT status, count(*) FROM pq_intents GROUP BY status").fetchall()
            )
        found = _read_log(store)
    text = Path(log).read_text(errors="replace")
    return {
        "built_s": built["save_s"] + built["catch_up_s"],
        "wall_s": stopped - started,
        "exit_codes": codes,
        "statuses": {str(k): int(v) for k, v in status.items()},
        "settled": int(status.get("SETTLED", 0)),
        "failed": int(status.get("FAILED", 0)),
        "events": events,
        "rejected_rows": rejected,
        "commits": commits,
        "commits_by_kind": by_kind,
        "rollbacks": rollbacks1 - rollbacks0,
        "took_over_lines": text.count("took over attempt"),
        "error_lines": sum(1 for line in text.splitlines() if " ERROR " in line),
        "proofqueue": sys.modules["proofqueue"].__file__,
        **found,
    }
