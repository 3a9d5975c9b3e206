"""The intents every benchmark buys, and stores of queued intents built quickly.

A store of N queued intents is built with ``pq.app.save(*intents)`` in batches of 500, each
intent made exactly as ``ProofQueue.submit`` makes it (validated request, sanitized params,
digest, budget, deadline), so the log holds the same ``Queued`` events a stream of submits
would; only the one-commit-per-submit is skipped. Queue times are one millisecond apart,
oldest first, so ``oldest first`` ordering is meaningful.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from proofqueue import ProofQueue, Settings
from proofqueue.domain.intent import Intent
from proofqueue.domain.request import parse_request
from proofqueue.domain.sanitize import sanitize

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


def queued_intent(pq: ProofQueue, index: int, now: datetime) -> Intent:
    """The intent ``pq.submit`` would record for ``index``, queued at ``now``."""
    request = parse_request(request_id(index), ACTOR, TARGET, params(index))
    public, _ = sanitize(request.params)
    return Intent.queue(
        request_id=request.request_id,
        actor=request.actor,
        target=request.target,
        params_public=public,
        params_sealed=None,
        params_plain=request.params,
        params_digest=pq.sealer.digest(request.params),
        max_attempts=pq.settings.retry.max_attempts,
        deadline=now + timedelta(seconds=pq.settings.retry.budget_s),
        now=now,
    )


def build_store(store: str, count: int) -> dict[str, Any]:
    """Record ``count`` queued intents in ``store`` and bring the views up to date."""
    started = time.perf_counter()
    with ProofQueue(Settings(store=store)) as pq:
        base = datetime.now(UTC) - timedelta(milliseconds=count + 1000)
        for first in range(0, count, BATCH):
            batch = [
                queued_intent(pq, i, base + timedelta(milliseconds=i))
                for i in range(first, min(count, first + BATCH))
            ]
            pq.app.save(*batch)
        saved = time.perf_counter()
        pq.catch_up()
        return {
            "intents": count,
            "save_s": saved - started,
            "catch_up_s": time.perf_counter() - saved,
        }
