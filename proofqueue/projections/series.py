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
    tally = Tally()
    tally.add(
        event,
        before["status"] if before is not None else None,
        before is not None and before["claim_until"] is not None,
        after["status"] if after is not None else None,
    )
    tally.write(cur)


class Tally:
    """What ``apply_intent`` writes for each of a batch's events, summed: written by
    ``write`` in one statement per table (a bucket whose moves cancel out is still written,
    with 0, as one by one leaves it)."""

    def __init__(self) -> None:
        self.backlog: dict[int, int] = {}
        self.metrics: dict[tuple[str, str], int] = {}

    def add(self, event: Any, before: str | None, claimed: bool, after: str | None) -> None:
        """Count ``event``, given the intent's status before (and whether it was claimed)
        and after it."""
        was_open = before in OPEN
        if was_open != (after in OPEN) and event.timestamp is not None:
            bucket = bucket_of(event.timestamp.timestamp())
            self.backlog[bucket] = self.backlog.get(bucket, 0) + (-1 if was_open else 1)
        outcome = _outcome(event, claimed) if claimed else None
        if outcome is not None:
            key = ("attempts", outcome)
            self.metrics[key] = self.metrics.get(key, 0) + 1
        if isinstance(event, Intent.Submitted) and (
            event.replayed or (event.reconciled or "").startswith(RESENT)
        ):
            key = ("ambiguous_resends", "")
            self.metrics[key] = self.metrics.get(key, 0) + 1

    def entered_backlog(self, epoch: float) -> None:
        """``add`` of an intent's Queued event at ``epoch``: it entered the backlog."""
        bucket = bucket_of(epoch)
        self.backlog[bucket] = self.backlog.get(bucket, 0) + 1

    def write(self, cur: Cursor) -> None:
        cur.many(
            "INSERT INTO pq_backlog_moves (bucket, delta) VALUES (?, ?)"
            " ON CONFLICT (bucket) DO UPDATE SET delta = pq_backlog_moves.delta + excluded.delta",
            list(self.backlog.items()),
        )
        cur.many(
            "INSERT INTO pq_metrics (name, label, n) VALUES (?, ?, ?)"
            " ON CONFLICT (name, label) DO UPDATE SET n = pq_metrics.n + excluded.n",
            [(name, label, n) for (name, label), n in self.metrics.items()],
        )


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
