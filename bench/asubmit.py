"""Figure 11: concurrent async submits (``AsyncProofQueue.submit``, group commits) against
sequential ``ProofQueue.submit`` on the same kind of SQLite store, no vendor URL: each
intent is recorded QUEUED and acknowledged once its ``Queued`` event is committed.

The async side keeps ``concurrency`` submits in flight at every moment (that many
coroutines each submitting one intent after another) until ``count`` are acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.intents import ACTOR, TARGET, params, request_id
from bench.submit import WARMUP
from proofqueue import AsyncProofQueue, Settings


async def _submits(store: str, count: int, concurrency: int) -> dict[str, Any]:
    async with AsyncProofQueue(Settings(store=store)) as apq:
        for i in range(WARMUP):
            await apq.submit(
                request_id(1_000_000 + i), actor=ACTOR, target=TARGET, params=params(i)
            )
        before = apq.sync.parts.log.recorder.max_notification_id() or 0
        commits_before = apq.group_commits
        queue = iter(range(count))

        async def submitter() -> None:
            for i in queue:
                receipt = await apq.submit(
                    request_id(i), actor=ACTOR, target=TARGET, params=params(i)
                )
                if receipt.status != "QUEUED":
                    raise RuntimeError(f"expected QUEUED, got {receipt.status}")

        started = time.perf_counter()
        await asyncio.gather(*(submitter() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        events = (apq.sync.parts.log.recorder.max_notification_id() or 0) - before
        commits = apq.group_commits - commits_before
    return {
        "seconds": seconds,
        "intents": count,
        "events": events,
        "commits": commits,
        "concurrency": concurrency,
    }


def async_submits(store: str, count: int, concurrency: int = 50) -> dict[str, Any]:
    """``count`` timed async submits, ``concurrency`` in flight, after a short warm-up."""
    return asyncio.run(_submits(store, count, concurrency))
