"""The breaker's recent past and the scrape-time figures, answered from the views.

``timeline`` samples the last minutes at evenly spaced moments: the backlog then (today's
backlog minus the moves since, ``series``), the vendor's failure ratio and calls in each
interval (``pq_calls``, kept an hour) and the breaker's states as segments (``pq_breaker``).
``figures`` gathers what ``GET /metrics`` prints. Every query reads a bounded number of rows
(buckets of the range, transitions, one row per vendor), whatever the number of intents.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from proofqueue.projections import queries, series, shared
from proofqueue.projections.store import Cursor, ViewDB


@dataclass(frozen=True)
class Sample:
    """One interval of the timeline, ending at ``at``: the most the backlog held in it (at
    5-second resolution), and the vendor's calls in it (``ratio`` None when none)."""

    at: float
    backlog: int
    calls: int
    failures: int

    @property
    def ratio(self) -> float | None:
        return self.failures / self.calls if self.calls else None


@dataclass(frozen=True)
class Segment:
    """The breaker in one state from ``start`` to ``end`` (epoch seconds)."""

    start: float
    end: float
    state: str


@dataclass(frozen=True)
class Timeline:
    """The last ``end - start`` seconds: samples and the breaker's state segments."""

    vendor: str | None
    start: float
    end: float
    samples: list[Sample] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)


def timeline(
    db: ViewDB, vendor: str | None, now: datetime, seconds: float, points: int
) -> Timeline:
    """The last ``seconds`` up to ``now`` in ``points`` samples."""
    end = now.timestamp()
    start = end - seconds
    step = seconds / points
    moments = [start + step * (k + 1) for k in range(points)]
    counted = queries.counts(db)
    backlog_now = counted["QUEUED"] + counted["RETRYING"]
    with db.reading() as cur:
        moves = cur.all(
            "SELECT bucket, delta FROM pq_backlog_moves WHERE bucket >= ? ORDER BY bucket",
            (series.bucket_of(start),),
        )
        calls = (
            cur.all(
                "SELECT second, calls, failures FROM pq_calls WHERE vendor = ? AND second >= ?"
                " ORDER BY second",
                (vendor, int(start)),
            )
            if vendor
            else []
        )
        rows = _breaker_rows(cur, vendor, start)
    per_calls = [0] * points
    per_failures = [0] * points
    for c in calls:
        k = min(points - 1, max(0, int((c["second"] - start) // step)))
        per_calls[k] += int(c["calls"])
        per_failures[k] += int(c["failures"])
    buckets = [int(m["bucket"]) for m in moves]
    after = [0] * (len(moves) + 1)  # after[i]: the moves of buckets[i:] summed
    for i in range(len(moves) - 1, -1, -1):
        after[i] = after[i + 1] + int(moves[i]["delta"])

    def backlog_at(moment: float) -> int:
        """Today's backlog minus the moves of the buckets that began at or after it."""
        return max(0, backlog_now - after[bisect.bisect_left(buckets, moment)])

    samples = []
    for k, at in enumerate(moments):
        # The most the interval held: at its end, and after each bucket that closed in it.
        ends = [b + series.BUCKET_S for b in buckets if at - step < b + series.BUCKET_S < at]
        peak = max([backlog_at(at), *(backlog_at(e) for e in ends)])
        samples.append(Sample(at, peak, per_calls[k], per_failures[k]))
    return Timeline(vendor, start, end, samples, _segments(rows, start, end))


def _breaker_rows(cur: Cursor, vendor: str | None, start: float) -> list[dict[str, Any]]:
    """The vendor's state just before ``start`` and every move since."""
    if vendor is None:
        return []
    before = cur.one(
        "SELECT at, to_state FROM pq_breaker WHERE vendor = ? AND at < ?"
        " ORDER BY at DESC, seq DESC LIMIT 1",
        (vendor, start),
    )
    since = cur.all(
        "SELECT at, to_state FROM pq_breaker WHERE vendor = ? AND at >= ? ORDER BY at, seq",
        (vendor, start),
    )
    return ([before] if before else []) + since


def _segments(rows: list[dict[str, Any]], start: float, end: float) -> list[Segment]:
    if not rows:
        return [Segment(start, end, "OK")]
    found: list[Segment] = []
    if rows[0]["at"] > start:
        found.append(Segment(start, rows[0]["at"], "OK"))
    for row, following in zip(rows, [*rows[1:], None], strict=True):
        begin = max(start, float(row["at"]))
        finish = end if following is None else min(end, float(following["at"]))
        if finish > begin:
            found.append(Segment(begin, finish, str(row["to_state"])))
    return found


@dataclass(frozen=True)
class VendorFigures:
    """One vendor's breaker as ``/metrics`` shows it."""

    vendor: str
    state: str
    calls: int
    failures: int
    transitions: dict[str, int]


@dataclass(frozen=True)
class Figures:
    """Everything ``GET /metrics`` prints, read at once."""

    intents: dict[str, int]
    oldest_age_s: float
    vendors: list[VendorFigures]
    attempts: dict[str, int]
    ambiguous_resends: int
    workers_alive: int


def figures(
    db: ViewDB, now: datetime, window_s: float, lease_s: float, configured: str | None
) -> Figures:
    """The scrape-time figures: counts, the oldest open intent's age, each vendor's breaker
    (the configured vendor too, OK when it never moved) and the counters of ``series``."""
    with db.reading() as cur:
        oldest = cur.one(
            "SELECT MIN(queued_at) AS oldest FROM pq_intents WHERE status IN ('QUEUED', 'RETRYING')"
        )
        latest = cur.all(
            "SELECT vendor, to_state FROM pq_breaker b WHERE seq ="
            " (SELECT MAX(seq) FROM pq_breaker WHERE breaker_id = b.breaker_id)"
        )
        moved = cur.all(
            "SELECT vendor, to_state, COUNT(*) AS n FROM pq_breaker"
            " WHERE from_state IS NOT NULL GROUP BY vendor, to_state"
        )
        counters = cur.all("SELECT name, label, n FROM pq_metrics")
        states = {str(r["vendor"]): str(r["to_state"]) for r in latest}
        if configured:
            states.setdefault(configured, "OK")
        windows = {v: shared.live_window(cur, v, window_s) for v in states}
        alive = sum(1 for w in shared.workers(cur, lease_s) if w["alive"])
    vendors = [
        VendorFigures(
            vendor,
            state,
            windows[vendor].calls,
            windows[vendor].failures,
            {str(r["to_state"]): int(r["n"]) for r in moved if r["vendor"] == vendor},
        )
        for vendor, state in sorted(states.items())
    ]
    first = oldest["oldest"] if oldest else None
    return Figures(
        intents=queries.counts(db),
        oldest_age_s=max(0.0, now.timestamp() - first) if first is not None else 0.0,
        vendors=vendors,
        attempts={str(r["label"]): int(r["n"]) for r in counters if r["name"] == "attempts"},
        ambiguous_resends=sum(int(r["n"]) for r in counters if r["name"] == "ambiguous_resends"),
        workers_alive=alive,
    )
