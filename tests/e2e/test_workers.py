"""Workers that scale out and explain themselves, as real processes on both stores: one
breaker window shared by all, heartbeats, operator hold, ``waiting_for``, clocks that
disagree by minutes and a worker paused past its lease."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proofqueue import ProofQueue, Settings
from tests.e2e.procs import (
    Worker,
    cli,
    cli_json,
    cli_json_here,
    set_faults,
    sim_stats,
    vendor_sim,
    wait_for,
)
from tests.e2e.trails import attempt_problems

# Calls end within 1.5 s, inside a 3 s lease; reads are frequent.
FAST = {
    "PROOFQUEUE_LEASE_S": "3",
    "PROOFQUEUE_CONNECT_TIMEOUT_S": "0.5",
    "PROOFQUEUE_READ_TIMEOUT_S": "1",
    "PROOFQUEUE_POLL_S": "0.2",
    "PROOFQUEUE_POLL_CAP_S": "0.5",
    "PROOFQUEUE_RETRY_CAP_S": "1",
    "PROOFQUEUE_RETRY_MAX_ATTEMPTS": "40",
    "PROOFQUEUE_RECONCILE_AFTER_S": "1",
}

THREE_FAILING_SUBMITS = """
import sys
from proofqueue import ProofQueue
with ProofQueue.from_env() as pq:
    for n in range(3):
        pq.submit(f"{sys.argv[1]}-{n}", actor="agent", target="0xabc/logo", params={})
"""


def _queue(store: str, ids: list[str]) -> None:
    with ProofQueue(Settings(store=store)) as pq:  # no vendor: only queued
        pq.submit_many(
            [{"request_id": r, "actor": "agent", "target": "0xabc/logo", "params": {}} for r in ids]
        )


def _settled(env: dict[str, str], count: int) -> bool:
    return bool(cli_json_here(env, "health")["backlog"] == 0) and _count(env, "SETTLED") == count


def _count(env: dict[str, str], status: str) -> int:
    return len(cli_json_here(env, "list", "--status", status, "--limit", "10000"))


def _one_job_each(url: str, ids: list[str]) -> dict[str, int]:
    per_request = sim_stats(url)["jobs_per_request_id"]
    return {rid: per_request.get(rid, 0) for rid in ids if per_request.get(rid, 0) != 1}


def test_calls_of_four_processes_trip_one_shared_breaker(store: str, tmp_path: Path) -> None:
    """Four processes, three failing calls each: none saw ten, together they trip the
    breaker; health from a fifth process shows the shared window."""
    with vendor_sim(tmp_path, "--fail-before", "1") as url:
        env = {"PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": url}
        ProofQueue(Settings(store=store)).close()  # create it once, before the four race to
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", THREE_FAILING_SUBMITS, f"p{n}"],
                env={**os.environ, **env},
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(4)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        calls = sum(sim_stats(url)["requests"].values())
        view = cli_json_here(env, "health")
    assert 10 <= calls <= 12
    assert view["state"] == "DEGRADED"
    assert view["calls_in_window"] == calls
    assert view["failure_ratio"] == 1.0


def test_workers_beat_share_the_slots_and_say_when_they_stop(store: str, tmp_path: Path) -> None:
    """``workers`` lists each worker alive with its pid; a stopped one is not alive; the
    two settle a backlog together, each intent bought once."""
    ids = [f"beat-{n}" for n in range(40)]
    _queue(store, ids)
    with vendor_sim(tmp_path, "--complete-after", "0.2") as url:
        env = {**FAST, "PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": url}
        first = Worker(env, tmp_path / "w1.log")
        second = Worker(env, tmp_path / "w2.log")
        try:
            wait_for(lambda: len(_alive(env)) == 2, 30, "two live workers")
            pids = {row["pid"] for row in _alive(env)}
            assert pids == {first.proc.pid, second.proc.pid}
            wait_for(lambda: _settled(env, len(ids)), 90, "the backlog to settle")
        finally:
            assert second.stop() == 0
        rows = cli_json_here(env, "workers")
        assert [r["alive"] for r in rows if r["pid"] == second.proc.pid] == [False]
        first.stop()
        assert _one_job_each(url, ids) == {}
        reads = sim_stats(url)["requests"].get("get_200", 0)
    assert reads <= 3 * len(ids)  # each job read by its one owner (a few reads each)


def _alive(env: dict[str, str]) -> list[dict[str, object]]:
    return [row for row in cli_json_here(env, "workers") if row["alive"]]


def test_a_held_vendor_gets_no_calls_until_released(store: str, tmp_path: Path) -> None:
    """While held, submits answer QUEUED, no process calls the vendor and every open intent
    says who holds it; after release the backlog settles."""
    with vendor_sim(tmp_path, "--complete-after", "0.2") as url:
        env = {**FAST, "PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": url}
        cli(env, "vendor", "hold", "--reason", "vendor maintenance", "--operator", "alice")
        worker = Worker(env, tmp_path / "worker.log")
        try:
            receipt = cli_json(
                env, "submit", "--request-id", "held-1", "--actor", "a", "--target", "0xabc/x"
            )
            assert receipt["status"] == "QUEUED"
            time.sleep(2)
            assert sum(sim_stats(url)["requests"].values()) == 0
            rows = cli_json_here(env, "list")
            assert rows[0]["waiting_for"] == "vendor held by alice: vendor maintenance"
            assert cli_json_here(env, "health")["held"]["by"] == "alice"
            cli(env, "vendor", "release", "--operator", "bob")
            wait_for(lambda: _settled(env, 1), 30, "the held intent to settle")
        finally:
            worker.stop()
        assert cli_json_here(env, "health")["held"] is None


def test_an_attempt_of_a_killed_worker_says_so_and_is_taken_over(
    store: str, tmp_path: Path
) -> None:
    """A worker killed while its call hangs leaves a claim: the intent says which worker
    holds it and that it is gone; another worker takes it over once the lease ran out and
    settles it once."""
    with vendor_sim(tmp_path, "--timeout-rate", "1", "--complete-after", "0.2") as url:
        env = {**FAST, "PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": url}
        _queue(store, ["lost-1"])
        doomed = Worker(env, tmp_path / "doomed.log")
        wait_for(lambda: sim_stats(url)["requests"].get("timeout", 0) >= 1, 30, "a hung call")
        doomed.kill()
        name = cli_json_here(env, "show", "lost-1")["events"][-1]["fields"]["worker"]
        wait_for(
            lambda: cli_json_here(env, "list")[0]["waiting_for"].startswith(
                f"attempt in flight in {name} (gone) until "
            ),
            30,
            "the claim to be shown as held by a gone worker",
        )
        set_faults(url, timeout_rate=0.0)
        rescuer = Worker(env, tmp_path / "rescuer.log")
        try:
            wait_for(lambda: _settled(env, 1), 60, "the takeover to settle it")
        finally:
            rescuer.stop()
        events = cli_json_here(env, "show", "lost-1")["events"]
        assert _one_job_each(url, ["lost-1"]) == {}
    takeovers = [e for e in events if e["type"] == "AttemptStarted" and e["fields"]["takeover"]]
    assert len(takeovers) == 1


FAKETIME = shutil.which("faketime")


@pytest.mark.skipif(
    FAKETIME is None and os.environ.get("CI") != "true",
    reason="needs faketime (apt-get install faketime; .ci/run installs it)",
)
def test_workers_whose_clocks_differ_by_five_minutes_never_run_one_attempt_twice(
    store: str, tmp_path: Path
) -> None:
    """One worker's clock runs 5 minutes ahead: no claim is taken over early, no request
    has two jobs at a vendor that ignores the Idempotency-Key and commits slowly."""
    ids = [f"skew-{n}" for n in range(60)]
    flags = (
        *("--no-idempotency-key", "--slow-rate", "0.3", "--slow-seconds", "0.5"),
        *("--fail-after", "0.2", "--complete-after", "0.3", "--seed", "11"),
    )
    with vendor_sim(tmp_path, *flags) as url:
        env = {**FAST, "PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": url}
        ProofQueue(Settings(store=store)).close()  # `workers` below needs the store to exist
        normal = Worker(env, tmp_path / "normal.log")
        # Only the wall clock runs ahead: a monotonic clock is the machine's own, and
        # libfaketime shifting it would turn every timed wait into a five-minute one.
        ahead = Worker(
            {**env, "FAKETIME_DONT_FAKE_MONOTONIC": "1"},
            tmp_path / "ahead.log",
            prefix=["faketime", "-f", "+5m"],
        )
        try:
            # Queued once both work: a retry that the worker ahead schedules falls due 5
            # minutes later for the other one (a skewed clock delays, never doubles, work).
            wait_for(lambda: len(_alive(env)) == 2, 30, "two live workers")
            _queue(store, ids)
            wait_for(lambda: _settled(env, len(ids)), 120, "the backlog to settle")
        finally:
            normal.stop()
            ahead.stop()
        assert _one_job_each(url, ids) == {}
    overlapping, takeovers = attempt_problems(store, ids)
    assert overlapping == []
    assert takeovers == 0  # nobody died: a skewed clock alone takes no claim over


def test_a_worker_paused_past_its_lease_cannot_buy_twice(store: str, tmp_path: Path) -> None:
    """SIGSTOP a worker past its lease while it holds claims, then SIGCONT it: the other
    worker takes over and reconciles, the paused one records nothing over it, and no
    request has two jobs at a vendor that ignores the Idempotency-Key."""
    ids = [f"pause-{n}" for n in range(40)]
    _queue(store, ids)
    flags = (
        *("--no-idempotency-key", "--slow-rate", "0.5", "--slow-seconds", "0.8"),
        *("--complete-after", "0.3", "--seed", "3"),
    )
    with vendor_sim(tmp_path, *flags) as url:
        env = {**FAST, "PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": url}
        paused = Worker(env, tmp_path / "paused.log")
        other = Worker(env, tmp_path / "other.log")
        try:
            wait_for(lambda: _count(env, "SETTLED") >= 5, 60, "some progress")
            paused.proc.send_signal(signal.SIGSTOP)
            time.sleep(8)  # well past the 3 s lease
            paused.proc.send_signal(signal.SIGCONT)
            wait_for(lambda: _settled(env, len(ids)), 120, "the backlog to settle")
        finally:
            paused.proc.send_signal(signal.SIGCONT)
            paused.stop()
            other.stop()
        assert _one_job_each(url, ids) == {}
    overlapping, _ = attempt_problems(store, ids)
    assert overlapping == []


def test_waiting_for_and_workers_print_as_json_lines(store: str, tmp_path: Path) -> None:
    """The JSON of ``list`` and ``show`` carries ``waiting_for``; terminal intents have none."""
    env = {"PROOFQUEUE_STORE": store}
    _queue(store, ["wf-1"])
    row = cli_json_here(env, "list")[0]
    shown = cli_json_here(env, "show", "wf-1")
    assert row["waiting_for"].startswith("next attempt at ")
    assert shown["waiting_for"] == row["waiting_for"]
    cli(env, "cancel", "wf-1", "--reason", "not needed", "--operator", "ops")
    assert cli_json_here(env, "list")[0]["waiting_for"] is None
    assert json.loads(cli(env, "workers", "--json").stdout) == []
