"""What this machine does to a durable submit, apart from proofqueue (figure 1's info rows).

Three probes, each a plain loop with no proofqueue code in its timed part:

- ``commit_after_work``: one-row sqlite3 commits (WAL, ``synchronous=FULL``, as the raw
  reference of figure 1), with ``gap_us`` of busy CPU work before each. Where a commit's
  latency grows with the work done before it, a path that does any work per commit pays
  more per commit than the tight raw loop does.
- ``cpu_after_pause``: the CPU time of a fixed piece of Python work (``json`` round trips of
  a submit-sized document) run right after a ``pause_us`` sleep, against the same work run
  back to back. Where it grows, work that follows a wait (an fsync, a network reply) runs
  slower than the same work in a tight loop.
- ``commit_beside_python``: the wall time of a one-row commit (the GIL released for the
  call) while ``threads`` other threads run pure Python: the committing thread waits for
  the GIL to come back after each call.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from typing import Any

ROWS = 600
DOC = {"request_id": "req-0001", "params": {"query": "x" * 600, "n": list(range(20))}}


def _store(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)")
    return conn


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _commit(conn: sqlite3.Connection) -> float:
    started = time.perf_counter()
    conn.execute("INSERT INTO t VALUES (?, ?)", (uuid.uuid4().hex, os.urandom(845)))
    return time.perf_counter() - started


def commit_after_work(gaps_us: list[int]) -> dict[str, Any]:
    """Mean µs per autocommitted one-row insert after each gap of busy work (gaps may
    repeat, interleaved: their means are averaged)."""
    found: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="pq-probe-") as tmp:
        for n, gap in enumerate(gaps_us):
            conn = _store(os.path.join(tmp, f"gap-{n}.db"))
            spent = 0.0
            for _ in range(ROWS):
                _spin(gap / 1e6)
                spent += _commit(conn)
            conn.close()
            found.setdefault(str(gap), []).append(spent / ROWS * 1e6)
    return {"commit_us": {gap: sum(v) / len(v) for gap, v in found.items()}}


def _work() -> None:
    for _ in range(6):
        json.loads(json.dumps(DOC))


def cpu_after_pause(pause_us: int, rounds: int = 2000) -> dict[str, Any]:
    """Mean µs of CPU time for one piece of work, back to back and after each pause."""
    started = time.process_time()
    for _ in range(rounds):
        _work()
    tight = (time.process_time() - started) / rounds
    spent = 0.0
    for _ in range(rounds):
        time.sleep(pause_us / 1e6)
        before = time.process_time()
        _work()
        spent += time.process_time() - before
    return {"tight_us": tight * 1e6, "after_pause_us": spent / rounds * 1e6}


def commit_beside_python(threads: int) -> dict[str, Any]:
    """Mean µs per one-row commit alone, and while ``threads`` threads run Python."""
    with tempfile.TemporaryDirectory(prefix="pq-probe-") as tmp:
        conn = _store(os.path.join(tmp, "gil.db"))
        alone = sum(_commit(conn) for _ in range(ROWS // 2)) / (ROWS // 2)
        stop = threading.Event()

        def busy() -> None:
            while not stop.is_set():
                sum(range(100))

        others = [threading.Thread(target=busy) for _ in range(threads)]
        for other in others:
            other.start()
        try:
            beside = sum(_commit(conn) for _ in range(50)) / 50
        finally:
            stop.set()
            for other in others:
                other.join()
        conn.close()
    return {"alone_us": alone * 1e6, "beside_us": beside * 1e6}


def probe() -> dict[str, Any]:
    """All three probes, for figure 1's info rows."""
    return {
        **commit_after_work([0, 500]),
        **cpu_after_pause(500),
        **commit_beside_python(1),
    }
