"""Counters and the backlog's history, kept as intent events are applied (for ``/metrics``
and the console's timeline; built from the log like every view, so a restart or a replay
gives the same numbers).

    pq_backlog_moves  5-second bucket -> how the backlog (QUEUED + RETRYING) moved in it
                      (+1 an intent entered it, -1 one left it). The backlog at a past
                      moment is today's backlog minus the moves since: a sum over at most
                      one row per bucket of the chart's range, whatever the store's size.
    pq_metrics        (name, label) -> a counter: ``attempts`` by outcome, ``ambiguous_resends``

An attempt's outcome is read from the event that ends it (the intent's row still holds the
attempt's claim when that event arrives):

    accepted      Submitted            the vendor took the job (or a lookup found it)
    transient     RetryScheduled       a transient error; the vendor surely has no job
    ambiguous     RetryScheduled       the create may have reached the vendor (a 500 after
                                       it, a timeout, a reset)
    permanent     Failed (permanent)   the vendor refused it (4xx)
    gave_up       Failed (other)       the budget or deadline ran out on this attempt
    lease_expired AttemptStarted       a takeover: the previous attempt's worker went quiet

``ambiguous_resends`` counts creates sent again after an attempt that may have reached the
vendor, once the vendor accepted them: ``Submitted`` with ``reconciled`` ``no-lookup...`` or
``lookup-found-none...``, or ``replayed`` (the vendor said it was a replay).

A store whose views were made by an earlier version gets these tables empty: its counters
start at zero then (as Prometheus counters may), and its timeline starts then too.
"""

from __future__ import annotations

import math
from typing import Any

from proofqueue.domain.intent import Intent
from proofqueue.projections.store import Cursor

BUCKET_S = 5
OPEN = ("QUEUED", "RETRYING")

TABLES = {
    "pq_backlog_moves": (
        """CREATE TABLE IF NOT EXISTS pq_backlog_moves (
        bucket BIGINT PRIMARY KEY,
        delta BIGINT NOT NULL)""",
    ),
    "pq_metrics": (
        """CREATE TABLE IF NOT EXISTS pq_metrics (
        name TEXT NOT NULL,
        label TEXT NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (name, label))""",
    ),
}

RESENT = ("no-lookup", "lookup-found-none")


def bucket_of(epoch: float) -> int:
    """The start of the 5-second bucket holding ``epoch`` (seconds since the epoch)."""
    return int(math.floor(epoch / BUCKET_S) * BUCKET_S)


def apply_intent(
    cur: Cursor,
    event: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Count what ``event`` did, given the intent's row (status, claim) before and after."""
    was_open = before is not None and before["status"] in OPEN
    is_open = after is not None and after["status"] in OPEN
    if was_open != is_open and event.timestamp is not None:
        cur.run(
            "INSERT INTO pq_backlog_moves (bucket, delta) VALUES (?, ?)"
            " ON CONFLICT (bucket) DO UPDATE SET delta = pq_backlog_moves.delta + excluded.delta",
            (bucket_of(event.timestamp.timestamp()), 1 if is_open else -1),
        )
    claimed = before is not None and before["claim_until"] is not None
    outcome = _outcome(event, claimed)
    if outcome is not None:
        _count(cur, "attempts", outcome)
    if isinstance(event, Intent.Submitted) and (
        event.replayed or (event.reconciled or "").startswith(RESENT)
    ):
        _count(cur, "ambiguous_resends", "")


def _outcome(event: Any, claimed: bool) -> str | None:
    if not claimed:
        return None
    if isinstance(event, Intent.Submitted):
        return "accepted"
    if isinstance(event, Intent.RetryScheduled) and event.operator is None:
        return "ambiguous" if event.ambiguous else "transient"
    if isinstance(event, Intent.Failed) and event.operator is None:
        return "permanent" if event.reason == "permanent" else "gave_up"
    if isinstance(event, Intent.AttemptStarted) and event.takeover:
        return "lease_expired"
    return None


def _count(cur: Cursor, name: str, label: str) -> None:
    cur.run(
        "INSERT INTO pq_metrics (name, label, n) VALUES (?, ?, 1)"
        " ON CONFLICT (name, label) DO UPDATE SET n = pq_metrics.n + 1",
        (name, label),
    )
