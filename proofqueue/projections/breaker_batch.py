"""A batch's breaker events, with the same result as ``views.apply_event`` on each in turn.

A breaker's transitions (thousands in a long outage) are checked against its state row
held in memory (read once per batch: version, proof head, vendor), each one's hash
recomputed as ``breaker_state`` does; their ``pq_breaker`` rows are inserted with one
``executemany`` and the state row is updated once, to the last of them. Any other breaker
or checkpoint event (rare) is applied by ``apply_event``, after the transitions before it
are written. A transition off the chain raises ``BrokenChain``, as one by one.
"""

from __future__ import annotations

from typing import Any

from proofqueue.domain.breaker_log import BreakerLog
from proofqueue.projections import breaker_state
from proofqueue.projections.store import Cursor
from proofqueue.projections.views import apply_event, ts

_INSERT = (
    "INSERT INTO pq_breaker (breaker_id, seq, vendor, at, from_state, to_state, reason,"
    " failure_ratio, calls, open_until, trips, worker) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class _Breaker:
    __slots__ = ("head", "last", "vendor", "version")

    def __init__(self, version: int, head: str, vendor: str | None) -> None:
        self.version = version
        self.head = head
        self.vendor = vendor  # of its pq_breaker row 1; None: no rows are added
        self.last: Any = None  # the last transition applied, not yet in the state row


class Breakers:
    """Breaker and checkpoint events of one batch, applied in log order."""

    def __init__(self, cur: Cursor) -> None:
        self.cur = cur
        self.known: dict[str, _Breaker] = {}
        self.rows: list[tuple[Any, ...]] = []

    def apply(self, key: str, event: Any) -> None:
        if type(event) is not BreakerLog.Transitioned:
            self.write()
            apply_event(self.cur, event)
            return
        breaker = self.known.get(key) or self._load(key)
        if breaker is None:  # no state row (a store older than the row): as one by one
            self.write()
            apply_event(self.cur, event)
            return
        breaker_state.check(event, key, breaker.version, breaker.head)
        breaker.version, breaker.head, breaker.last = event.originator_version, event.hash, event
        if breaker.vendor is not None:
            self.rows.append(
                (
                    key, event.originator_version, breaker.vendor, ts(event.timestamp),
                    event.from_state, event.to_state, event.reason, event.failure_ratio,
                    event.calls, ts(event.open_until), event.trips, event.worker,
                )
            )  # fmt: skip

    def _load(self, key: str) -> _Breaker | None:
        cur = self.cur
        row = cur.one(
            "SELECT version, proof_head FROM pq_breaker_state WHERE breaker_id = ?", (key,)
        )
        if row is None:
            return None
        first = cur.one("SELECT vendor FROM pq_breaker WHERE breaker_id = ? AND seq = 1", (key,))
        found = _Breaker(
            int(row["version"]), str(row["proof_head"]), first["vendor"] if first else None
        )
        self.known[key] = found
        return found

    def write(self) -> None:
        """Write what the transitions so far did; forget the state rows held."""
        self.cur.many(_INSERT, self.rows)
        self.rows = []
        for key, breaker in self.known.items():
            if breaker.last is not None:
                self.cur.run(
                    breaker_state.TRANSITIONED, breaker_state.transitioned(breaker.last, key)
                )
        self.known = {}
