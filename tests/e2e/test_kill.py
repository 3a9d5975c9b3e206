"""A worker killed with SIGKILL mid-run and restarted loses nothing and buys nothing twice."""

from __future__ import annotations

import random
import time
from pathlib import Path

from proofqueue import ProofQueue, Settings
from tests.e2e.procs import Worker, cli, cli_json_here, sim_stats, vendor_sim, wait_for

INTENTS = 40


def test_killed_workers_lose_nothing_and_buy_nothing_twice(store: str, tmp_path: Path) -> None:
    """Workers are SIGKILLed three times mid-run (while calls are in flight against a slow,
    ambiguous vendor); a last worker finishes: all settle, one job each, chains verify."""
    ids = [f"kill-{n:03d}" for n in range(INTENTS)]
    with ProofQueue(Settings(store=store)) as pq:  # no vendor: intents are only queued
        for rid in ids:
            assert pq.submit(rid, actor="a", target="0xabc/logo", params={"n": rid}).status == (
                "QUEUED"
            )
    flags = (
        "--fail-after",
        "0.2",
        "--slow-rate",
        "0.5",
        "--slow-seconds",
        "0.4",
        "--complete-after",
        "0.3",
        "--seed",
        "3",
    )
    with vendor_sim(tmp_path, *flags) as url:
        env = {
            "PROOFQUEUE_STORE": store,
            "PROOFQUEUE_VENDOR_URL": url,
            "PROOFQUEUE_LEASE_S": "3",
            "PROOFQUEUE_CONNECT_TIMEOUT_S": "0.5",
            "PROOFQUEUE_READ_TIMEOUT_S": "1",
            "PROOFQUEUE_POLL_S": "0.2",
            "PROOFQUEUE_POLL_CAP_S": "0.5",
            "PROOFQUEUE_CONCURRENCY": "4",
        }
        log = tmp_path / "worker.log"
        rng = random.Random(11)
        unfinished_at_kill = []
        for _ in range(3):
            worker = Worker(env, log)
            time.sleep(rng.uniform(1.0, 2.0))
            worker.kill()
            rows = cli_json_here(env, "list", "--limit", "1000")
            unfinished_at_kill.append(sum(r["status"] != "SETTLED" for r in rows))
        assert unfinished_at_kill[0] > 0, "the first kill came after all the work was done"

        last = Worker(env, log)
        try:
            wait_for(
                lambda: all(
                    r["status"] == "SETTLED" for r in cli_json_here(env, "list", "--limit", "1000")
                ),
                90,
                "every intent to settle after the kills",
            )
        finally:
            assert last.stop() == 0, log.read_text()

        stats = sim_stats(url)
        assert stats["duplicates"] == 0
        assert stats["jobs"] == INTENTS
        assert sorted(stats["jobs_per_request_id"]) == ids
        assert cli(env, "verify", "--all").returncode == 0
        assert cli(env, "replay", "--check").returncode == 0
