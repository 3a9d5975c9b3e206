"""The outage flow end to end: the CLI, a worker process and the vendor simulator over loopback."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

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

FAST = {
    "PROOFQUEUE_BREAKER_OPEN_S": "3",  # DEGRADED for 3 s, and 3 s again on a re-trip
    "PROOFQUEUE_BREAKER_MAX_OPEN_S": "3",
    "PROOFQUEUE_BREAKER_MIN_CALLS": "5",  # tripped by 5 failed calls in the window, not 10
    "PROOFQUEUE_POLL_S": "0.2",
    "PROOFQUEUE_POLL_CAP_S": "0.5",
    "PROOFQUEUE_RETRY_CAP_S": "2",  # the backlog is retried within 2 s once the vendor is back
}


def _submit(env: dict[str, str], request_id: str, wait: str = "0") -> str:
    """Submit through the CLI; exit 5 (not terminal within --wait) is an answer too."""
    ran = cli(
        env,
        "submit",
        "--request-id",
        request_id,
        "--actor",
        "agent-1",
        "--target",
        "0xabc/logo",
        "--param",
        "brief=fox",
        "--wait",
        wait,
        "--json",
        check=False,
    )
    assert ran.returncode in (0, 5), ran.stderr
    assert (ran.returncode == 5) == (float(wait) > 0 and '"SETTLED"' not in ran.stdout)
    status: str = json.loads(ran.stdout)["status"]
    return status


def _state(env: dict[str, str]) -> str:
    state: str = cli_json_here(env, "health")["state"]
    return state


def test_an_outage_trips_the_breaker_queues_honestly_and_everything_settles_once(
    store: str, tmp_path: Path
) -> None:
    """500s trip the breaker; while DEGRADED submits answer QUEUED and the vendor sees only
    probes; after the outage the breaker recovers through RECOVERING and the backlog settles
    with one job per request_id and trails Queued, RetryScheduled..., Submitted, Settled."""
    with vendor_sim(tmp_path, "--complete-after", "0.3") as url:
        env = {"PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": url, **FAST}
        worker = Worker(env, tmp_path / "worker.log")
        try:
            before = [f"before-{n}" for n in range(4)]
            assert [_submit(env, rid, wait="10") for rid in before] == ["SETTLED"] * 4

            set_faults(url, outage_now=True)
            during: list[str] = []
            while (state := _state(env)) == "OK":
                assert len(during) < 40, "the breaker never tripped"
                during.append(f"during-{len(during)}")
                assert _submit(env, during[-1]) in ("RETRYING", "QUEUED")
            assert state == "DEGRADED"

            time.sleep(0.5)  # calls already in flight when it tripped may still land
            calls_at_trip = sim_stats(url)["requests"].get("outage", 0)
            degraded = [f"degraded-{n}" for n in range(4)]
            assert [_submit(env, rid, wait="5") for rid in degraded] == ["QUEUED"] * 4
            during_outage = datetime.now(UTC).isoformat()
            time.sleep(5)
            set_faults(url, outage_now=False)
            calls_in_outage = sim_stats(url)["requests"].get("outage", 0) - calls_at_trip
            probing = [
                t for t in cli_json_here(env, "health")["transitions"] if t["to"] == "RECOVERING"
            ]
            assert calls_in_outage <= 3 * len(probing), "the vendor saw more than probe calls"

            everyone = before + during + degraded
            wait_for(
                lambda: all(r["status"] == "SETTLED" for r in cli_json_here(env, "list")),
                60,
                "every intent to settle",
            )
            assert {r["request_id"] for r in cli_json_here(env, "list")} == set(everyone)

            moves = [(t["from"], t["to"]) for t in cli_json_here(env, "health")["transitions"]]
            assert moves[0] == ("OK", "DEGRADED")
            assert moves[-2:] == [("DEGRADED", "RECOVERING"), ("RECOVERING", "OK")]
            assert _state(env) == "OK"

            stats = sim_stats(url)
            assert stats["duplicates"] == 0
            assert stats["jobs"] == len(everyone)
            assert all(stats["jobs_per_request_id"][rid] == 1 for rid in everyone)

            for rid in everyone:
                types = [e["type"] for e in cli_json_here(env, "show", rid)["events"]]
                story = " ".join(t for t in types if t != "AttemptStarted")
                assert re.fullmatch(r"Queued( RetryScheduled)* Submitted Settled", story), story
            assert any(
                "RetryScheduled" in [e["type"] for e in cli_json_here(env, "show", rid)["events"]]
                for rid in during
            )

            assert cli(env, "verify", "--all").returncode == 0
            assert cli(env, "replay", "--check").returncode == 0

            then = cli_json(env, "replay", "--as-of", during_outage)
            assert then["health"]["state"] == "DEGRADED"
            status_then = {row["request_id"]: row["status"] for row in then["intents"]}
            assert all(status_then[rid] in ("QUEUED", "RETRYING") for rid in during + degraded)
            assert all(status_then[rid] == "SETTLED" for rid in before)
        finally:
            assert worker.stop() == 0, (tmp_path / "worker.log").read_text()
