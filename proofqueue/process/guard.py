"""The breaker in a running process: the pure machine, fed by the vendor calls of every
process on the store, kept in step with the shared ``BreakerLog``.

The state (and every transition, with its reason) lives in the log, so every process that
shares the store agrees on it. The window of recent calls lives in the store too
(``pq_calls``, per vendor and per second): each process counts its calls in memory (O(1) a
call) and adds them to the store's current second at most every ``flush_s``, reading back
the whole window as it does; its decisions judge that shared window plus its own calls not
yet written. So N workers trip the breaker on the same total as one. When two processes
decide a transition at once, optimistic concurrency lets one win and the other adopts the
winner's state.

A damaged breaker event (undecodable, or breaking the breaker's proof chain) must stop
neither submits nor the worker: the guard keeps the breaker's last good state (as of the
event before the damaged one; OK when the first is damaged), logs one line naming the
event, and goes on judging the shared window in memory. Transitions and holds cannot be
recorded after a damaged event, so they stay in this process (it probes for itself), a
hold cannot be trusted (a damaged ``Released`` would otherwise hold every intent forever)
and is not honoured, ``hold``/``release`` are refused naming the damage, and ``health``
names the event (``breaker_damaged``, ``held`` null).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from eventsourcing.persistence import IntegrityError

from proofqueue.domain.breaker import Breaker, BreakerPolicy, BreakerState, Transition
from proofqueue.domain.breaker_log import BreakerLog, Hold
from proofqueue.domain.errors import IllegalTransition, TrailDamaged
from proofqueue.ports import IntentStore
from proofqueue.projections import shared
from proofqueue.projections.store import ViewDB

logger = logging.getLogger("proofqueue.breaker")


class BreakerGuard:
    def __init__(
        self,
        log: IntentStore,
        vendor: str,
        policy: BreakerPolicy,
        clock: Callable[[], datetime],
        worker: str,
        probe_lease: timedelta,
        db: ViewDB | None = None,
        flush_s: float = 0.25,
    ) -> None:
        self.log = log
        self.vendor = vendor
        self.policy = policy
        self.clock = clock
        self.worker = worker
        self.probe_lease = probe_lease
        self._lock = threading.RLock()
        self._machine = Breaker(since=clock())
        self._version = 0
        self._prober: str | None = None
        self._probe_until: datetime | None = None
        self._hold: Hold | None = None
        self.db = db
        self.flush_s = flush_s
        self._pending = shared.Window()  # calls counted here, not yet in the store
        self._shared = shared.Window()  # the store's window at the last flush
        self._flushed_at = time.monotonic()
        self._flushes = 0
        self.damaged: TrailDamaged | None = None  # the breaker's first damaged event

    @property
    def state(self) -> BreakerState:
        return self._machine.state

    @property
    def held(self) -> Hold | None:
        """The operator's hold on the vendor, as of the last ``sync``."""
        return self._hold

    def hold(self, *, operator: str, reason: str) -> None:
        """Hold every call to the vendor, in every process on the store."""
        self._change(lambda log: log.hold_calls(operator=operator, reason=reason, now=self.clock()))

    def release(self, *, operator: str) -> None:
        self._change(lambda log: log.release(operator=operator, now=self.clock()))

    def _change(self, change: Callable[[BreakerLog], None]) -> None:
        for _ in range(5):
            log = self._load()
            if self.damaged is not None:
                raise self.damaged  # nothing can be recorded after a damaged event
            log = log or BreakerLog.open(self.vendor, self.clock())
            change(log)
            try:
                self.log.save(log)
            except IntegrityError:
                continue  # another process wrote meanwhile: look again
            with self._lock:
                self._adopt()
            return
        raise IllegalTransition(self.vendor, "change the hold of", "busy", "try again")

    def snapshot(self, now: datetime) -> tuple[BreakerState, float, int]:
        """State, failure ratio and calls of the window this process judges."""
        with self._lock:
            if self.db is None:
                ratio, calls = self._machine.stats(now, self.policy)
                return self._machine.state, ratio, calls
            seen = self._shared.plus(self._pending.calls, self._pending.failures)
            return self._machine.state, seen.ratio, seen.calls

    def sync(self, *, drive: bool = True) -> BreakerState:
        """Adopt the log's state. With ``drive`` (the worker's loop), also let time pass,
        which may start probing with this process as the prober: a process that only
        submits must not, as it may be gone before the probes are sent."""
        with self._lock:
            self._adopt()
            if not drive:
                return self._machine.state
            now = self.clock()
            machine, transition = self._machine.tick(now, self.policy)
            if transition is not None:
                self._commit(machine, transition)
            elif (
                self._machine.state == BreakerState.RECOVERING
                and self._probe_until is not None
                and now >= self._probe_until
            ):
                machine, transition = self._machine.restart_probes(
                    now, f"probe lease of {self._prober} ran out: probing again"
                )
                self._commit(machine, transition)
            return self._machine.state

    def admit(self) -> bool:
        """May this process send a call now? In RECOVERING only the prober may, and only
        as many calls as there are probes."""
        with self._lock:
            if self._hold is not None:
                return False
            if self._machine.state == BreakerState.RECOVERING and self._prober != self.worker:
                return False
            if not self._machine.may_call(self.policy):
                return False
            self._machine = self._machine.sent(self.policy)
            return True

    def unsent(self) -> None:
        """An admitted call was not made (the claim was lost): give the probe back."""
        with self._lock:
            self._machine = self._machine.unsent()

    def record(self, *, failed: bool, duration_s: float) -> None:
        """A call finished: count it (O(1)) and judge the shared window."""
        failed = failed or duration_s > self.policy.slow_call_s
        with self._lock:
            window = None
            if self.db is not None:
                self._pending = self._pending.plus(1, int(failed))
                seen = self._shared.plus(self._pending.calls, self._pending.failures)
                window = (seen.calls, seen.failures)
            machine, transition = self._machine.record(
                self.clock(),
                failed=failed,
                duration_s=duration_s,
                policy=self.policy,
                shared=window,
            )
            if transition is None:
                self._machine = machine
            else:
                self._commit(machine, transition)
        if time.monotonic() - self._flushed_at >= self.flush_s:
            try:
                self.flush()
            except Exception as exc:  # the store is busy or gone: the counts wait for the
                logger.warning("breaker window not written yet: %s", exc)  # next flush

    def flush(self) -> shared.Window:
        """Add the calls counted here to the store's window and read the whole window back:
        one short transaction, whatever the window holds."""
        if self.db is None:
            return shared.Window()
        with self._lock:
            pending, self._pending = self._pending, shared.Window()
            self._flushed_at = time.monotonic()
            self._flushes += 1
            prune = self._flushes % 1000 == 1
            since = self._machine.ok_since
            read_in = self._machine.since  # the state whose window is read
        try:
            with self.db.transaction(soft=True) as cur:  # counts only: no fsync
                shared.record_calls(cur, self.vendor, pending.calls, pending.failures)
                if prune:
                    shared.prune_calls(cur)
                seen = shared.window(cur, self.vendor, self.policy.window_s, since)
        except Exception:
            with self._lock:  # not written: count them again next time
                self._pending = self._pending.plus(pending.calls, pending.failures)
            raise
        with self._lock:
            if self._machine.since != read_in:
                # The breaker moved while the window was read (a probe's answer took it
                # back to OK, say): what was read is the window of the state it left. Judged
                # against the new state it would trip again on the outage's own failures.
                return self._shared
            self._shared = seen
            # Calls of other processes may have tipped the shared window: judge it now.
            total = seen.plus(self._pending.calls, self._pending.failures)
            machine, transition = self._machine.judge(
                self.clock(), self.policy, total.calls, total.failures
            )
            if transition is not None:
                self._commit(machine, transition)
        return seen

    # -- the shared log ------------------------------------------------------------------

    def _load(self) -> BreakerLog | None:
        """The breaker's log; when one of its events is damaged, its last good state
        (``damaged`` names the event; logged once)."""
        try:
            found = self.log.breaker_log(self.vendor)
        except TrailDamaged as exc:
            if self.damaged is None or (self.damaged.seq, self.damaged.detail) != (
                exc.seq,
                exc.detail,
            ):
                logger.error("%s; keeping its last good state", exc)
            self.damaged = exc
            good = exc.last_good
            return good if isinstance(good, BreakerLog) else None
        self.damaged = None
        return found

    def _adopt(self) -> None:
        if self.log.breaker_version(self.vendor) == self._version:
            return  # nothing recorded since it was last loaded: nothing to load
        log = self._load()
        if log is None or log.version == self._version:
            return
        self._version = log.version
        self._hold = log.hold
        self._prober = log.prober
        self._probe_until = log.probe_until
        if self.damaged is not None:  # nothing after the damage can be shared: this
            self._hold = None  # process judges alone, and probes for itself
            self._prober, self._probe_until = self.worker, None
        adopted = log.breaker(self._machine.since)
        if adopted.state != self._machine.state or adopted.since != self._machine.since:
            self._machine = adopted
            self._shared = shared.Window()  # a window of the state it left

    def _commit(self, machine: Breaker, transition: Transition) -> None:
        """Record a transition; if another process moved first, adopt its state instead."""
        log = self._load()
        if self.damaged is not None:  # not recordable: judged in this process only
            probing = transition.to_state == BreakerState.RECOVERING
            self._machine = machine
            self._shared = shared.Window()
            self._prober = self.worker if probing else None
            self._probe_until = transition.at + self.probe_lease if probing else None
            return
        if log is None:
            log = BreakerLog.open(self.vendor, transition.at)
        elif log.version != self._version:
            self._adopt()
            return
        probing = transition.to_state == BreakerState.RECOVERING
        probe_until = transition.at + self.probe_lease if probing else None
        log.record(transition, worker=self.worker, probe_until=probe_until)
        try:
            self.log.save(log)
        except IntegrityError:
            self._adopt()
            return
        self._machine = machine
        self._shared = shared.Window()  # a window of the state it left
        self._version = log.version
        self._hold = log.hold
        self._prober = self.worker if probing else None
        self._probe_until = probe_until
        level = logging.WARNING if transition.to_state == BreakerState.DEGRADED else logging.INFO
        logger.log(
            level,
            "breaker of %s: %s -> %s (%s)",
            self.vendor,
            transition.from_state.value,
            transition.to_state.value,
            transition.reason,
        )
