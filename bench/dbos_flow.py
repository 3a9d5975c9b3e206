"""Figure 2's durable-execution reference: the same flow on DBOS Transact.

One workflow per intent, whose id is the request_id (``SetWorkflowID``), with one step that
posts the create and one that reads the job to completion on the shared schedule; 8 threads
each run one workflow at a time (a workflow called directly runs in the calling thread), so
at most 8 are in flight, as with the other contenders. The system database is SQLite in a
temporary directory: ``DBOS(config={"name": ..., "system_database_url": "sqlite:///..."})``.

DBOS leaves SQLite in its default rollback-journal mode; proofqueue's store is in WAL mode.
``wal=True`` puts the system database file in WAL mode before DBOS opens it (the mode is
stored in the file), so both durable contenders then commit the same way: WAL, and
``synchronous`` at SQLite's default (FULL), which neither changes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from dbos import DBOS, SetWorkflowID

from bench.flow import TIMEOUT, Schedule, create_job, wait_completed
from bench.intents import request_id
from bench.machine import vm_kib

CONCURRENCY = 8

_client: httpx.Client | None = None


def _http() -> httpx.Client:
    if _client is None:
        raise RuntimeError("the DBOS benchmark's HTTP client is not open")
    return _client


@DBOS.step()
def create_step(url: str, request: str, index: int) -> str:
    return create_job(_http(), url, request, index)


@DBOS.step()
def wait_step(url: str, job_id: str) -> str:
    return wait_completed(_http(), url, job_id, Schedule())


@DBOS.workflow()
def buy(url: str, request: str, index: int) -> str:
    job_id = create_step(url, request, index)
    return wait_step(url, job_id)


def _journal_mode(path: str) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def dbos_flow(directory: str, url: str, count: int, wal: bool, timeout_s: float) -> dict[str, Any]:
    global _client
    path = os.path.join(directory, "dbos.sqlite")
    if wal:
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
    _client = httpx.Client(timeout=TIMEOUT)
    DBOS(
        config={
            "name": "proofqueue-bench",
            "system_database_url": f"sqlite:///{path}",
            "log_level": "WARNING",
        }
    )
    try:
        DBOS.launch()

        def run(index: int) -> str:
            with SetWorkflowID(request_id(index)):
                return buy(url, request_id(index), index)

        started = time.time()
        with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="caller") as callers:
            deliverables = list(callers.map(run, range(count)))
        seconds = time.time() - started
        journal = _journal_mode(path)
    finally:
        DBOS.destroy()
        _client.close()
    return {
        "seconds": seconds,
        "settled": len(deliverables),
        "failed": 0,
        "journal_mode": journal,
        "peak_rss_kib": vm_kib("VmHWM"),
    }
