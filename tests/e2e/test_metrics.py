"""``GET /metrics`` scraped from a real ``proofqueue serve`` during a simulated outage: the
breaker's state, ratio and window, and the backlog gauges, from the views."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx

from tests.e2e.procs import set_faults, vendor_sim, wait_for
from tests.e2e.served import serving, token

FAST = {"PROOFQUEUE_BREAKER_OPEN_S": "30", "PROOFQUEUE_POLL_S": "0.2"}
SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")


def _env(store: str, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROOFQUEUE_")}
    return {**env, "PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": url, **FAST}


def scrape(url: str, bearer: str) -> dict[str, float]:
    """The samples of one scrape, keyed ``name{labels}``; every line is checked for form."""
    answer = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {bearer}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found: dict[str, float] = {}
    for line in answer.text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) proofqueue_[a-z_]+ ", line), line
            continue
        match = SAMPLE.match(line)
        assert match, line
        found[match[1] + (match[2] or "")] = float(match[3])
    return found


def test_metrics_during_an_outage_show_the_tripped_breaker_and_the_backlog(
    sqlite_store: str, tmp_path: Path
) -> None:
    """Every call failing: the state gauge is 1 for DEGRADED only, the ratio and calls are the
    window's, the backlog gauges count the waiting intents and their oldest's age; agents
    may not scrape, auditors may. (SQLite only: tests/integration/test_console.py scrapes
    both stores in process.)"""
    with vendor_sim(tmp_path) as sim:
        env = _env(sqlite_store, sim)
        agent, auditor = token(env, "agent-1", "agent"), token(env, "prom", "auditor")
        with serving(env, tmp_path / "serve.log") as url:
            before = scrape(url, auditor)
            assert before['proofqueue_breaker_state{vendor="' + sim + '",state="OK"}'] == 1
            set_faults(sim, outage_now=True)
            order = {"target": "0xabc/logo", "params": {"brief": "fox"}}
            for n in range(14):
                body = {**order, "request_id": f"m-{n}", "wait": 0}
                done = httpx.post(
                    f"{url}/intents", json=body, headers={"Authorization": f"Bearer {agent}"}
                )
                assert done.status_code == 201, done.text

            def degraded() -> bool:
                key = 'proofqueue_breaker_state{vendor="' + sim + '",state="DEGRADED"}'
                return scrape(url, auditor).get(key) == 1

            wait_for(degraded, 20, "the breaker to trip")
            time.sleep(1.0)
            got = scrape(url, auditor)
            label = '{vendor="' + sim + '"}'
            assert got['proofqueue_breaker_state{vendor="' + sim + '",state="OK"}'] == 0
            assert got['proofqueue_breaker_state{vendor="' + sim + '",state="RECOVERING"}'] == 0
            health = httpx.get(
                f"{url}/health", headers={"Authorization": f"Bearer {auditor}"}
            ).json()
            assert got[f"proofqueue_breaker_calls_in_window{label}"] == health["calls_in_window"]
            assert got[f"proofqueue_breaker_calls_in_window{label}"] >= 5
            assert got[f"proofqueue_breaker_failure_ratio{label}"] == health["failure_ratio"]
            assert got[f"proofqueue_breaker_failure_ratio{label}"] >= 0.5
            assert (
                got['proofqueue_breaker_transitions_total{vendor="' + sim + '",to="DEGRADED"}'] >= 1
            )
            waiting = (
                got['proofqueue_intents{status="QUEUED"}']
                + got['proofqueue_intents{status="RETRYING"}']
            )
            assert waiting == 14
            assert got["proofqueue_backlog_oldest_age_seconds"] >= 1.0
            failed = (
                got['proofqueue_attempts_total{outcome="transient"}']
                + got['proofqueue_attempts_total{outcome="ambiguous"}']
            )
            assert failed >= 10
            assert got['proofqueue_attempts_total{outcome="accepted"}'] == 0
            assert got["proofqueue_workers_alive"] == 0
            refused = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {agent}"})
            assert refused.status_code == 403
            assert httpx.get(f"{url}/metrics").status_code == 401
