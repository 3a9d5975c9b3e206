"""The intents every benchmark buys, and stores of queued intents built quickly.

A store of N queued intents is built with ``pq.submit_many`` in batches of 500 (one commit
per batch), so the log holds the same ``Queued`` events a stream of submits would; only the
one-commit-per-submit is skipped. Queue times are one millisecond apart,
oldest first, so ``oldest first`` ordering is meaningful.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from proofqueue import ProofQueue, Settings

ACTOR = "agent-7"
PROVIDER = "0x5f1c0ffee0000000000000000000000000000001"
OFFERING = "logo-design"
TARGET = f"{PROVIDER}/{OFFERING}"
BATCH = 500


def request_id(index: int) -> str:
    return f"bench-{index:07d}"


def params(index: int) -> dict[str, Any]:
    """A small, realistic job: what an agent would ask a designer for."""
    return {
        "brief": "a minimal logo for a coffee roaster, warm colours, no text",
        "format": "svg",
        "size": "1024x1024",
        "revisions": 2,
        "order": index,
    }


def build_store(store: str, count: int) -> dict[str, Any]:
    """Record ``count`` queued intents in ``store`` and bring the views up to date."""
    started = time.perf_counter()
    base = datetime.now(UTC) - timedelta(milliseconds=count + 1000)
    ticks = iter(range(count + 1))

    def clock() -> datetime:  # queue times one millisecond apart, oldest first
        return base + timedelta(milliseconds=next(ticks, count))

    with ProofQueue(Settings(store=store), clock=clock) as pq:
        for first in range(0, count, BATCH):
            pq.submit_many(
                [
                    {
                        "request_id": request_id(i),
                        "actor": ACTOR,
                        "target": TARGET,
                        "params": params(i),
                    }
                    for i in range(first, min(count, first + BATCH))
                ]
            )
        saved = time.perf_counter()
        pq.catch_up()
        return {
            "intents": count,
            "save_s": saved - started,
            "catch_up_s": time.perf_counter() - saved,
        }
