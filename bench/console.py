"""Figure 10: the web console's fragments at a large backlog, beside the JSON list.

Each fragment (and ``GET /metrics``) is requested through the ASGI app in process
(``httpx.ASGITransport``: routing, the guard, the token check, the store queries and the
rendering, no network), with an operator token, after five untimed calls each. The
reference is the JSON API's ``GET /intents?limit=50`` on the same store.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bench.stats import percentile
from proofqueue import ProofQueue, Settings
from proofqueue.entrypoints.http import close_app, create_app

WARMUP = 5
PATHS = {
    "breaker (60 min timeline)": "/console/p/breaker",
    "waiting intents, page 1": "/console/p/intents",
    "all intents, page 100": "/console/p/intents?status=ALL&page=100",
    "one intent (trail, verify, receipt)": "/console/p/intent?id=bench-0000001",
    "workers": "/console/p/workers",
    "GET /metrics": "/metrics",
    "reference: JSON GET /intents?limit=50": "/intents?limit=50",
}


def console_latency(store: str, calls: int) -> dict[str, Any]:
    """p50/p99 in ms of each of ``PATHS`` over ``calls`` requests."""
    with ProofQueue(Settings(store=store)) as pq:
        token = pq.create_token(f"bench-{time.monotonic_ns()}", "operator")[1]
        app = create_app(pq)
        try:
            results = asyncio.run(_measure(app, token, calls))
            results["counts"] = pq.counts()
        finally:
            close_app(app)
    return results


async def _measure(app: Any, token: str, calls: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        for name, path in PATHS.items():
            for _ in range(WARMUP):
                (await client.get(path, headers=headers)).raise_for_status()
            times: list[float] = []
            size = 0
            for _ in range(calls):
                started = time.perf_counter()
                answer = await client.get(path, headers=headers)
                times.append(time.perf_counter() - started)
                answer.raise_for_status()
                size = len(answer.content)
            results[name] = {
                "p50_ms": percentile(times, 0.5) * 1000,
                "p99_ms": percentile(times, 0.99) * 1000,
                "bytes": size,
                "calls": calls,
            }
    return results
