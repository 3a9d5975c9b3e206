"""The circuit breaker, as a pure state machine.

    OK ──(>= min_calls in the window and failure ratio >= threshold)──> DEGRADED
    DEGRADED ──(open period over)──> RECOVERING
    RECOVERING ──(probe failure ratio < threshold)──> OK
    RECOVERING ──(probe failure ratio >= threshold)──> DEGRADED, open period doubled (capped)

A call counts as failed when it failed transiently or took longer than ``slow_call_s``.
In OK the window holds the calls of the last ``window_s`` seconds (the window every process
on the store shares, given to ``record``; or, alone, the machine's own), none from before it
came back to OK (``ok_since``); in RECOVERING only the
probe results count; calls finishing while DEGRADED are ignored. Every method takes the
time as an argument and returns a new ``Breaker`` and the transition it made, if any.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class BreakerState(StrEnum):
    """The vendor's circuit breaker: OK (calls go through), DEGRADED (no calls until
    ``open_until``), RECOVERING (a few probe calls judge whether it is back)."""

    OK = "OK"
    DEGRADED = "DEGRADED"
    RECOVERING = "RECOVERING"


@dataclass(frozen=True)
class BreakerPolicy:
    """When the breaker trips (``failure_ratio`` of at least ``min_calls`` calls in the last
    ``window_s`` seconds; a call slower than ``slow_call_s`` fails), how long it stays
    DEGRADED (``open_s``, doubling per re-trip up to ``max_open_s``), how many ``probes``."""

    window_s: float = 30.0
    min_calls: int = 10
    failure_ratio: float = 0.5
    slow_call_s: float = 10.0
    open_s: float = 15.0
    max_open_s: float = 300.0
    probes: int = 3

    def open_for(self, trips: int) -> float:
        """How long DEGRADED lasts on the ``trips``-th consecutive trip (1-based)."""
        return min(self.max_open_s, self.open_s * 2.0 ** min(max(trips - 1, 0), 32))


@dataclass(frozen=True)
class Transition:
    at: datetime
    from_state: BreakerState
    to_state: BreakerState
    reason: str
    failure_ratio: float
    calls: int
    window_start: datetime
    open_until: datetime | None
    trips: int

    def as_fields(self) -> dict[str, Any]:
        return {
            "from_state": self.from_state.value,
            "to_state": self.to_state.value,
            "reason": self.reason,
            "failure_ratio": round(self.failure_ratio, 4),
            "calls": self.calls,
            "window_start": self.window_start,
            "open_until": self.open_until,
            "trips": self.trips,
        }


@dataclass(frozen=True)
class Breaker:
    since: datetime
    state: BreakerState = BreakerState.OK
    open_until: datetime | None = None
    trips: int = 0
    window: tuple[tuple[datetime, bool], ...] = field(default=())
    probes_sent: int = 0
    probe_results: tuple[bool, ...] = field(default=())
    # When it last came back to OK (None: never away): no call finished before then counts
    # in the window, or the outage's failures would trip it again at once.
    ok_since: datetime | None = None

    # -- questions -----------------------------------------------------------------------

    def stats(self, now: datetime, policy: BreakerPolicy) -> tuple[float, int]:
        """(failure ratio, calls) over the window (OK) or the probes (RECOVERING)."""
        if self.state == BreakerState.RECOVERING:
            results = self.probe_results
        else:
            start = now - timedelta(seconds=policy.window_s)
            results = tuple(failed for at, failed in self.window if at > start)
        calls = len(results)
        return (sum(results) / calls if calls else 0.0), calls

    def may_call(self, policy: BreakerPolicy) -> bool:
        """Whether a new call may be sent now (after ``tick``)."""
        if self.state == BreakerState.OK:
            return True
        if self.state == BreakerState.RECOVERING:
            return self.probes_sent < policy.probes
        return False

    # -- events --------------------------------------------------------------------------

    def tick(self, now: datetime, policy: BreakerPolicy) -> tuple[Breaker, Transition | None]:
        """Let time pass: an open period that is over moves DEGRADED to RECOVERING."""
        if self.state == BreakerState.DEGRADED and self.open_until and now >= self.open_until:
            return self._move(
                now, BreakerState.RECOVERING, "open period over: probing", policy, 0.0, 0
            )
        return self, None

    def sent(self, policy: BreakerPolicy) -> Breaker:
        """A call was let through; in RECOVERING it uses up a probe."""
        if self.state == BreakerState.RECOVERING:
            return replace(self, probes_sent=self.probes_sent + 1)
        return self

    def unsent(self) -> Breaker:
        """A call that was let through was not made after all: give its probe back."""
        if self.state == BreakerState.RECOVERING and self.probes_sent > 0:
            return replace(self, probes_sent=self.probes_sent - 1)
        return self

    def record(
        self,
        now: datetime,
        *,
        failed: bool,
        duration_s: float,
        policy: BreakerPolicy,
        shared: tuple[int, int] | None = None,
    ) -> tuple[Breaker, Transition | None]:
        """A call finished. Slow calls count as failures.

        ``shared`` is the (calls, failures) of the window every process on the store counts
        into, this call included: then the machine judges that window, not its own."""
        failed = failed or duration_s > policy.slow_call_s
        if self.state == BreakerState.DEGRADED:
            return self, None
        if self.state == BreakerState.RECOVERING:
            return self._judge_probes(now, (*self.probe_results, failed), policy)
        if shared is not None:
            return self.judge(now, policy, *shared)
        start = now - timedelta(seconds=policy.window_s)
        window = (*tuple(item for item in self.window if item[0] > start), (now, failed))
        current = replace(self, window=window)
        ratio, calls = current.stats(now, policy)
        return current._trip_if(now, policy, ratio, calls)

    def judge(
        self, now: datetime, policy: BreakerPolicy, calls: int, failures: int
    ) -> tuple[Breaker, Transition | None]:
        """Judge the shared window (calls and failures of every process): in OK, trip when
        it holds enough calls failing at the threshold ratio."""
        if self.state != BreakerState.OK:
            return self, None
        return self._trip_if(now, policy, failures / calls if calls else 0.0, calls)

    def _trip_if(
        self, now: datetime, policy: BreakerPolicy, ratio: float, calls: int
    ) -> tuple[Breaker, Transition | None]:
        current = self
        if calls >= policy.min_calls and ratio >= policy.failure_ratio:
            reason = (
                f"failure ratio {ratio:.2f} >= {policy.failure_ratio:.2f}"
                f" over {calls} calls in {policy.window_s:g}s"
            )
            return current._move(now, BreakerState.DEGRADED, reason, policy, ratio, calls)
        return current, None

    def _judge_probes(
        self, now: datetime, results: tuple[bool, ...], policy: BreakerPolicy
    ) -> tuple[Breaker, Transition | None]:
        current = replace(self, probe_results=results)
        failures = sum(results)
        ok = len(results) - failures
        # Decide as soon as the outcome of all the probes is certain.
        need_fail = math.ceil(policy.failure_ratio * policy.probes - 1e-9)
        ratio = failures / len(results)
        if failures >= max(need_fail, 1):
            reason = f"probes failed: {failures} of {len(results)}"
            return current._move(now, BreakerState.DEGRADED, reason, policy, ratio, len(results))
        if ok > policy.probes - max(need_fail, 1):
            reason = f"probes passed: {ok} of {len(results)}"
            return current._move(now, BreakerState.OK, reason, policy, ratio, len(results))
        return current, None

    def _move(
        self,
        now: datetime,
        to: BreakerState,
        reason: str,
        policy: BreakerPolicy,
        ratio: float,
        calls: int,
    ) -> tuple[Breaker, Transition]:
        trips = self.trips
        open_until = None
        if to == BreakerState.DEGRADED:
            trips += 1
            open_until = now + timedelta(seconds=policy.open_for(trips))
        elif to == BreakerState.OK:
            trips = 0
        window_start = (
            now - timedelta(seconds=policy.window_s)
            if self.state == BreakerState.OK
            else self.since
        )
        transition = Transition(
            at=now,
            from_state=self.state,
            to_state=to,
            reason=reason,
            failure_ratio=ratio,
            calls=calls,
            window_start=window_start,
            open_until=open_until,
            trips=trips,
        )
        ok_since = now if to == BreakerState.OK else None
        moved = Breaker(since=now, state=to, open_until=open_until, trips=trips, ok_since=ok_since)
        return moved, transition

    def restart_probes(self, now: datetime, reason: str) -> tuple[Breaker, Transition]:
        """RECOVERING again, with fresh probes (the previous prober went away)."""
        transition = Transition(
            at=now,
            from_state=self.state,
            to_state=BreakerState.RECOVERING,
            reason=reason,
            failure_ratio=0.0,
            calls=0,
            window_start=self.since,
            open_until=None,
            trips=self.trips,
        )
        return Breaker(since=now, state=BreakerState.RECOVERING, trips=self.trips), transition

    @classmethod
    def after(cls, transition: Transition) -> Breaker:
        """The breaker as a recorded transition left it (used to adopt the shared log)."""
        return cls(
            since=transition.at,
            state=transition.to_state,
            open_until=transition.open_until,
            trips=transition.trips,
            ok_since=transition.at if transition.to_state == BreakerState.OK else None,
        )
