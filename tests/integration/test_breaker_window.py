"""The breaker window every process on the store shares starts afresh when the breaker
comes back to OK: the outage's failures still inside its 30 s do not trip it again."""

from __future__ import annotations

import time

from proofqueue import BreakerPolicy, BreakerState, ProofQueue, Settings
from proofqueue.testing import FakeVendor


def test_a_breaker_back_to_ok_is_not_tripped_again_by_the_outages_failures(store: str) -> None:
    settings = Settings(store=store, breaker=BreakerPolicy(open_s=0.5))
    with ProofQueue(settings, vendor=FakeVendor()) as pq:
        guard = pq.parts.guard
        for _ in range(10):
            guard.record(failed=True, duration_s=0.1)
        guard.flush()
        assert guard.sync() == BreakerState.DEGRADED
        time.sleep(0.6)
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
