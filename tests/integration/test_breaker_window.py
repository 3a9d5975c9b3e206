"""The breaker window every process on the store shares starts afresh when the breaker
comes back to OK: the outage's failures still inside its 30 s do not trip it again."""

from __future__ import annotations

import time
from typing import Any

import pytest

from proofqueue import BreakerPolicy, BreakerState, ProofQueue, Settings
from proofqueue.projections import shared
from proofqueue.testing import FakeVendor


def _trip_and_wait_out(guard: Any) -> None:
    """10 failed calls trip the breaker; its open period (0.5 s) then runs out."""
    for _ in range(10):
        guard.record(failed=True, duration_s=0.1)
    guard.flush()
    assert guard.sync() == BreakerState.DEGRADED
    time.sleep(0.6)


def test_a_breaker_back_to_ok_is_not_tripped_again_by_the_outages_failures(store: str) -> None:
    settings = Settings(store=store, breaker=BreakerPolicy(open_s=0.5))
    with ProofQueue(settings, vendor=FakeVendor()) as pq:
        guard = pq.parts.guard
        _trip_and_wait_out(guard)
        assert guard.sync() == BreakerState.RECOVERING  # this process probes
        for _ in range(2):
            assert guard.admit()
            guard.record(failed=False, duration_s=0.1)
        assert guard.sync() == BreakerState.OK
        time.sleep(1.1)  # the calls after this second count
        seen = guard.flush()  # the 10 failures are still in the store's last 30 s
        assert seen.failures == 0  # (the probes may count: flushed after the move)
        assert guard.sync() == BreakerState.OK
        guard.record(failed=False, duration_s=0.1)
        assert guard.snapshot(pq.parts.clock())[1] == 0.0
        health = pq.health()
        assert (health.state, health.failure_ratio) == ("OK", 0.0)


def test_a_breaker_that_recovers_while_its_window_is_read_is_not_tripped_by_that_read(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flush reads the window of the state it started in; when a probe's answer moves
    the breaker back to OK meanwhile, that read (the outage's failures) is not judged."""
    settings = Settings(store=store, breaker=BreakerPolicy(open_s=0.5))
    with ProofQueue(settings, vendor=FakeVendor()) as pq:
        guard = pq.parts.guard
        _trip_and_wait_out(guard)
        assert guard.sync() == BreakerState.RECOVERING
        assert guard.admit()
        guard.record(failed=False, duration_s=0.1)  # the first probe passed
        assert guard.admit()
        real_window = shared.window

        def window_while_the_last_probe_lands(*args: Any, **kwargs: Any) -> Any:
            seen = real_window(*args, **kwargs)  # RECOVERING's: the outage's failures
            # Meanwhile another thread's probe answer moves the breaker back to OK (its
            # commit of the move waits for this transaction on SQLite: staged in memory).
            machine, moved = guard._machine.record(
                pq.parts.clock(), failed=False, duration_s=0.1, policy=guard.policy
            )
            assert moved is not None
            assert moved.to_state == BreakerState.OK
            guard._machine = machine
            return seen

        monkeypatch.setattr(shared, "window", window_while_the_last_probe_lands)
        guard.flush()
        monkeypatch.undo()
        assert guard.state == BreakerState.OK  # not tripped again by the outage's failures
