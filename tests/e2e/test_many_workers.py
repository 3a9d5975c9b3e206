"""Several worker processes share one store: each attempt runs in one place at a time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from proofqueue import ProofQueue, Settings
from tests.e2e.procs import Worker, cli, sim_stats, vendor_sim, wait_for
from tests.e2e.trails import attempt_problems

FAULTS = (
    "--fail-before",
    "0.15",
    "--fail-after",
    "0.15",
    "--slow-rate",
    "0.1",
    "--slow-seconds",
    "0.2",
    "--complete-after",
    "0.2",
    "--seed",
    "5",
)


def _queue(store: str, ids: list[str]) -> None:
    with ProofQueue(Settings(store=store)) as pq:  # no vendor: intents are only queued
        pq.submit_many(
            [
                {"request_id": rid, "actor": "agent", "target": "0xabc/logo", "params": {"n": rid}}
                for rid in ids
            ]
        )


def _all_settled(store: str, count: int) -> bool:
    with ProofQueue(Settings(store=store)) as pq:
        return pq.counts()["SETTLED"] == count


@pytest.mark.parametrize("kill_one", [False, True], ids=["all-live", "one-killed"])
def test_four_workers_settle_a_thousand_intents_once_each_under_500s(
    store: str, tmp_path: Path, kill_one: bool
) -> None:
    """4 workers, 30% of creates answered 500 (half after the job was created): 1,000 intents
    all settle, one job per request_id, never two attempts of one intent in flight at once."""
    count = 1000 if not kill_one else 400
    ids = [f"many-{n:04d}" for n in range(count)]
    _queue(store, ids)
    with vendor_sim(tmp_path, *FAULTS) as url:
        env = {
            "PROOFQUEUE_STORE": store,
            "PROOFQUEUE_VENDOR_URL": url,
            "PROOFQUEUE_LEASE_S": "3",
            "PROOFQUEUE_CONNECT_TIMEOUT_S": "0.5",
            "PROOFQUEUE_READ_TIMEOUT_S": "1",
            "PROOFQUEUE_POLL_S": "0.2",
            "PROOFQUEUE_POLL_CAP_S": "0.5",
            "PROOFQUEUE_RETRY_CAP_S": "2",
            "PROOFQUEUE_RETRY_MAX_ATTEMPTS": "30",
        }
        log = tmp_path / "workers.log"
        workers = [Worker(env, log) for _ in range(4)]
        try:
            if kill_one:
                time.sleep(3)
                workers.pop(0).kill()
            wait_for(lambda: _all_settled(store, count), 240, f"{count} intents to settle")
        finally:
            codes = [w.stop() for w in workers]
        assert codes == [0] * len(workers), log.read_text()[-3000:]

        stats = sim_stats(url)
        assert stats["duplicates"] == 0
        assert stats["jobs"] == count
        assert sorted(stats["jobs_per_request_id"]) == ids
        assert stats["requests"].get("create_500_after", 0) > 0
        assert stats["requests"].get("create_409", 0) == 0, "two creates of one key at once"
        if not kill_one:
            assert attempt_problems(store, ids)[0] == []
        assert cli(env, "replay", "--check").returncode == 0
        assert cli(env, "verify", "--all").returncode == 0
