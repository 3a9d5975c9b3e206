"""A large log, written fast: the events are made by the real aggregates (so every hash and
every stored byte is what the product writes) and inserted in bulk through eventsourcing's
own recorder, skipping only the one-commit-per-command that a live run would pay.

Every intent is queued; a share of them (``progressed``) is also claimed, submitted and
settled (one in ten of those retried first, one in twenty failed instead). One breaker gets
``transitions`` transitions (OK -> DEGRADED -> RECOVERING -> OK, over and over). Times are
one millisecond apart, oldest first. The views are not built here (``catch_up`` does it).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.intents import ACTOR, TARGET, params, request_id
from proofqueue import ProofQueue, Settings
from proofqueue.domain.breaker import BreakerState, Transition
from proofqueue.domain.breaker_log import BreakerLog
from proofqueue.domain.intent import Intent

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 5000
VENDOR = "http://vendor.bench"


def _intent(index: int, now: datetime, progressed: bool) -> Intent:
    intent = Intent.queue(
        request_id=request_id(index),
        actor=ACTOR,
        target=TARGET,
        params_public=params(index),
        params_sealed=None,
        params_plain=params(index),
        params_digest=f"{index:064x}",
        max_attempts=12,
        deadline=now + timedelta(days=1),
        now=now,
    )
    if not progressed:
        return intent
    step = timedelta(milliseconds=1)
    lease = timedelta(seconds=30)
    at = now + step
    intent.start_attempt(worker="bench-worker", lease=lease, now=at)
    if index % 10 == 0:
        at += step
        intent.schedule_retry(
            error="server", status_code=503, detail="503 from the vendor", ambiguous=False,
            next_attempt_at=at + step, now=at,
        )  # fmt: skip
        at += step
        intent.start_attempt(worker="bench-worker", lease=lease, now=at)
    at += step
    if index % 20 == 1:
        intent.fail(reason="rejected", detail="the vendor refused it", now=at)
        return intent
    intent.submit(job_id=f"job-{index}", replayed=False, reconciled=None, now=at)
    intent.settle(deliverable_id=f"deliverable-{index}", phase="COMPLETED", now=at + step)
    return intent


def _breaker(transitions: int) -> BreakerLog:
    log = BreakerLog.open(VENDOR, EPOCH)
    moves = (
        (BreakerState.OK, BreakerState.DEGRADED, "failure ratio 0.6 over 12 calls"),
        (BreakerState.DEGRADED, BreakerState.RECOVERING, "open period over"),
        (BreakerState.RECOVERING, BreakerState.OK, "probes succeeded"),
    )
    for n in range(transitions):
        at = EPOCH + timedelta(milliseconds=n)
        source, target, reason = moves[n % 3]
        degraded = target == BreakerState.DEGRADED
        log.record(
            Transition(
                at=at, from_state=source, to_state=target, reason=reason, failure_ratio=0.6,
                calls=12, window_start=at - timedelta(seconds=30),
                open_until=at + timedelta(seconds=15) if degraded else None, trips=1,
            ),
            worker="bench-worker",
            probe_until=at + timedelta(seconds=30) if target == BreakerState.RECOVERING else None,
        )  # fmt: skip
    return log


def build_log(
    store: str, intents: int, progressed: float = 0.1, transitions: int = 0
) -> dict[str, Any]:
    """Write the log into ``store`` (a new SQLite file); the figures of the build."""
    started = time.perf_counter()
    events = 0
    with ProofQueue(Settings(store=store)) as pq:
        recorder, mapper = pq.parts.log.recorder, pq.parts.log.mapper
        every = round(1 / progressed) if progressed else 0
        pending: list[Any] = []

        def flush() -> None:
            nonlocal events
            recorder.insert_events(pending)
            events += len(pending)
            pending.clear()

        if transitions:
            for event in _breaker(transitions).collect_events():
                pending.append(mapper.to_stored_event(event))
                if len(pending) >= BATCH:
                    flush()
        for index in range(intents):
            now = EPOCH + timedelta(milliseconds=index)
            intent = _intent(index, now, bool(every) and index % every == 0)
            pending.extend(mapper.to_stored_event(event) for event in intent.collect_events())
            if len(pending) >= BATCH:
                flush()
        if pending:
            flush()
    return {"events": events, "intents": intents, "seconds": time.perf_counter() - started}
