"""``proofqueue demo``: the outage scenario, end to end, on the embedded store.

A vendor simulator (a real server on loopback) with a background of ambiguous 500s, a
worker, and four agents submitting intents. Midway every vendor call starts failing; the
breaker trips, agents get honest QUEUED answers, the outage ends, the breaker probes and
recovers, and the backlog settles. The summary checks the outcome against the simulator's
own counts and exits 1 if anything is off.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr
from rich.console import Console
from rich.live import Live
from rich.table import Table

from proofqueue import Health
from proofqueue.api import ProofQueue
from proofqueue.domain.errors import InvalidInput
from proofqueue.settings import Settings
from proofqueue.testing.simulator import SimConfig, running_simulator

AGENTS = 4
OUTAGE = (5.0, 15.0)  # seconds after the start: every vendor call fails
SUBMIT_SECONDS = 20.0
DEADLINE_S = 90.0
API_KEY = "demo-key"


def demo_store(path: str | None, now: datetime) -> str:
    """The demo's own store: a new SQLite file. It never touches an existing store (not even
    PROOFQUEUE_STORE): a path that exists is refused."""
    store = path or f"proofqueue-demo-{now:%Y%m%d-%H%M%S}.db"
    if os.path.lexists(store):
        raise InvalidInput(
            "store", f"{store!r} exists; the demo only writes a new store of its own"
        )
    folder = os.path.dirname(os.path.abspath(store))
    if not os.path.isdir(folder):
        raise InvalidInput("store", f"folder {folder!r} does not exist")
    return store


def run_demo(*, intents: int, store: str | None, console: Console) -> int:
    now = datetime.now(UTC)
    store = demo_store(store, now)
    ids = [f"demo-{now:%H%M%S}-{n:04d}" for n in range(intents)]
    sim = SimConfig(port=0, api_key=API_KEY, fail_after=0.05, complete_after=1.0, seed=7)
    console.print(
        f"[bold]proofqueue demo[/]: {intents} intents from {AGENTS} agents, new store"
        f" {store}; vendor outage from {OUTAGE[0]:g}s to {OUTAGE[1]:g}s"
    )
    with running_simulator(sim) as url:
        settings = Settings(
            store=store,
            vendor_url=url,
            vendor_api_key=SecretStr(API_KEY),
            read_timeout_s=5.0,
            poll_s=0.3,
            poll_cap_s=1.0,
        )
        with ProofQueue(settings) as pq, httpx.Client(base_url=url) as control:
            started = time.monotonic()
            answers: Counter[str] = Counter()
            agents = [
                threading.Thread(target=_agent, args=(pq, ids[i::AGENTS], answers, i))
                for i in range(AGENTS)
            ]
            with pq.worker():
                for agent in agents:
                    agent.start()
                outage_on = outage_off = False
                with Live(console=console, refresh_per_second=4, transient=False) as live:
                    while True:
                        elapsed = time.monotonic() - started
                        if not outage_on and elapsed >= OUTAGE[0]:
                            control.post("/_sim/faults", json={"outage_now": True})
                            outage_on = True
                        if not outage_off and elapsed >= OUTAGE[1]:
                            control.post("/_sim/faults", json={"outage_now": False})
                            outage_off = True
                        counts = pq.counts()
                        stats = control.get("/_sim/stats").json()
                        live.update(_panel(elapsed, pq.health(), counts, stats, answers, intents))
                        done = counts["SETTLED"] + counts["FAILED"]
                        if (
                            outage_off
                            and done >= len(ids)
                            and not any(a.is_alive() for a in agents)
                        ):
                            break
                        if elapsed > DEADLINE_S:
                            break
                        time.sleep(0.25)
                console.print()
            stats = control.get("/_sim/stats").json()
            return _summary(pq, ids, stats, answers, time.monotonic() - started, console)


def _agent(pq: ProofQueue, ids: list[str], answers: Counter[str], n: int) -> None:
    pace = SUBMIT_SECONDS / max(len(ids), 1)
    for i, request_id in enumerate(ids):
        receipt = pq.submit(
            request_id,
            actor=f"agent-{n}",
            target="0x5f1c0ffee0000000000000000000000000000001/logo-design",
            params={"brief": f"logo #{i}", "style": "flat", "api_token": f"tok-{request_id}"}
            if pq.parts.sealer.has_key
            else {"brief": f"logo #{i}", "style": "flat"},
        )
        answers[receipt.status] += 1
        time.sleep(pace)


def _panel(
    elapsed: float,
    health: Health,
    counts: dict[str, int],
    stats: dict[str, Any],
    answers: Counter[str],
    intents: int,
) -> Table:
    colour = {"OK": "green", "DEGRADED": "red", "RECOVERING": "yellow"}[health.state]
    table = Table(show_header=False, box=None)
    table.add_row("elapsed", f"{elapsed:5.1f}s")
    outage = OUTAGE[0] <= elapsed < OUTAGE[1]
    table.add_row("vendor", "[red]OUTAGE: every call fails[/]" if outage else "up")
    table.add_row("breaker", f"[bold {colour}]{health.state}[/]")
    table.add_row(
        "queue",
        f"queued {counts['QUEUED']}  retrying {counts['RETRYING']}"
        f"  submitted {counts['SUBMITTED']}",
    )
    table.add_row("settled", f"{counts['SETTLED']} / {intents}   failed {counts['FAILED']}")
    table.add_row("agents told", "  ".join(f"{k} {v}" for k, v in sorted(answers.items())))
    table.add_row("vendor jobs", f"{stats['jobs']}   duplicates {stats['duplicates']}")
    return table


def _summary(
    pq: ProofQueue,
    ids: list[str],
    stats: dict[str, Any],
    answers: Counter[str],
    seconds: float,
    console: Console,
) -> int:
    receipts = [pq.receipt(request_id) for request_id in ids]
    statuses = Counter(r.status for r in receipts)
    per_request = stats["jobs_per_request_id"]
    duplicates = sum(max(per_request.get(i, 0) - 1, 0) for i in ids)
    missing = [i for i in ids if per_request.get(i, 0) == 0]
    report = pq.verify(ids)
    health = pq.health()
    checks = {
        f"every intent settled ({statuses['SETTLED']}/{len(ids)})": statuses["SETTLED"] == len(ids),
        f"one vendor job per request_id (duplicates {duplicates}, missing {len(missing)})": (
            duplicates == 0 and not missing
        ),
        f"every proof chain verified ({report.events} events)": report.ok,
        "breaker tripped and recovered": any(t.to == "DEGRADED" for t in health.transitions)
        and health.state == "OK",
    }
    console.rule("summary")
    console.print(f"finished in {seconds:.1f}s; agents were told: {dict(answers)}")
    console.print(f"vendor calls by outcome: {dict(sorted(stats['requests'].items()))}")
    table = Table("at", "from", "to", "reason", title="breaker timeline")
    for t in health.transitions:
        table.add_row(t.at.isoformat()[11:23], t.from_, t.to, t.reason)
    console.print(table)
    sample = next((i for i in ids if _had_retry(pq, i)), ids[0])
    trail = " -> ".join(e.type for e in pq.show(sample).events)
    console.print(f"trail of {sample}: {trail}")
    console.print("receipt:")
    console.print_json(json.dumps(json.loads(pq.receipt(sample).model_dump_json())))
    for label, ok in checks.items():
        console.print(f"{'[green]PASS[/]' if ok else '[red]FAIL[/]'}  {label}")
    console.print(
        f"the demo's store is kept: PROOFQUEUE_STORE={pq.settings.store} proofqueue list",
        markup=False,
    )
    return 0 if all(checks.values()) else 1


def _had_retry(pq: ProofQueue, request_id: str) -> bool:
    return any(e.type == "RetryScheduled" for e in pq.show(request_id).events)
