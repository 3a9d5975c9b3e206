"""The pure circuit breaker (``proofqueue.domain.breaker``) with design.md's defaults."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from proofqueue.domain.breaker import Breaker, BreakerPolicy, BreakerState, Transition

OK, DEGRADED, RECOVERING = BreakerState.OK, BreakerState.DEGRADED, BreakerState.RECOVERING
POLICY = BreakerPolicy()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
LEGAL_EDGES = {(OK, DEGRADED), (DEGRADED, RECOVERING), (RECOVERING, OK), (RECOVERING, DEGRADED)}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(
    breaker: Breaker, failures: Iterable[bool], *, when: float = 0.0, duration: float = 0.1
) -> tuple[Breaker, list[Transition]]:
    """Record one finished call per item of ``failures``, all at ``when``."""
    moves: list[Transition] = []
    for failed in failures:
        breaker, move = breaker.record(at(when), failed=failed, duration_s=duration, policy=POLICY)
        if move is not None:
            moves.append(move)
    return breaker, moves


def tripped(when: float = 0.0) -> Breaker:
    breaker, moves = feed(Breaker(since=T0), [True] * 10, when=when)
    assert breaker.state == DEGRADED
    assert len(moves) == 1
    return breaker


def recovering(breaker: Breaker) -> Breaker:
    """Tick a DEGRADED breaker to the end of its open period."""
    assert breaker.open_until is not None
    moved, move = breaker.tick(breaker.open_until, POLICY)
    assert move is not None
    assert moved.state == RECOVERING
    return moved


def probe(breaker: Breaker, when: datetime, *, failed: bool) -> tuple[Breaker, Transition | None]:
    assert breaker.may_call(POLICY)
    return breaker.sent(POLICY).record(when, failed=failed, duration_s=0.1, policy=POLICY)


# -- tripping -------------------------------------------------------------------------------


def test_nine_failures_in_a_row_do_not_trip_the_breaker() -> None:
    """Fewer than 10 calls in the window never trip, however many fail."""
    breaker, moves = feed(Breaker(since=T0), [True] * 9)
    assert breaker.state == OK
    assert moves == []
    assert breaker.stats(at(0), POLICY) == (1.0, 9)


def test_the_tenth_call_trips_the_breaker_when_half_of_the_window_failed() -> None:
    """Ten calls with a failure ratio of exactly 0.5 trip the breaker on the tenth."""
    breaker, moves = feed(Breaker(since=T0), [False] * 5 + [True] * 5, when=3.0)
    assert breaker.state == DEGRADED
    assert len(moves) == 1
    move = moves[0]
    assert (move.from_state, move.to_state) == (OK, DEGRADED)
    assert move.failure_ratio == 0.5
    assert move.calls == 10
    assert move.at == at(3.0)


def test_a_failure_ratio_just_below_half_does_not_trip() -> None:
    """Four failures out of ten calls (0.4) keep the breaker OK."""
    breaker, moves = feed(Breaker(since=T0), [True] * 4 + [False] * 6)
    assert breaker.state == OK
    assert moves == []
    assert breaker.stats(at(0), POLICY) == (0.4, 10)


def test_the_tenth_call_may_be_a_success_and_still_trip() -> None:
    """Nine failures then one success: 10 calls, ratio 0.9, the success's record trips."""
    breaker, moves = feed(Breaker(since=T0), [True] * 9 + [False])
    assert breaker.state == DEGRADED
    assert moves[0].failure_ratio == pytest.approx(0.9)


def test_calls_older_than_the_window_drop_out() -> None:
    """Nine failures 31 s ago no longer count: one more failure is 1 call in the window."""
    breaker, _ = feed(Breaker(since=T0), [True] * 9, when=0.0)
    breaker, moves = feed(breaker, [True], when=31.0)
    assert breaker.state == OK
    assert moves == []
    assert breaker.stats(at(31.0), POLICY) == (1.0, 1)
    assert len(breaker.window) == 1


def test_calls_still_inside_the_window_count() -> None:
    """Nine failures 29 s ago plus one now are 10 calls in the 30 s window: trip."""
    breaker, _ = feed(Breaker(since=T0), [True] * 9, when=0.0)
    breaker, moves = feed(breaker, [True], when=29.0)
    assert breaker.state == DEGRADED
    assert moves[0].calls == 10


def test_a_call_slower_than_ten_seconds_counts_as_a_failure() -> None:
    """Ten successful but slow (10.5 s) calls trip the breaker with ratio 1.0."""
    breaker, moves = feed(Breaker(since=T0), [False] * 10, duration=10.5)
    assert breaker.state == DEGRADED
    assert moves[0].failure_ratio == 1.0


def test_a_call_of_exactly_ten_seconds_is_not_slow() -> None:
    """The slow-call limit is 'longer than 10 s': 10.0 s successes are successes."""
    breaker, moves = feed(Breaker(since=T0), [False] * 10, duration=10.0)
    assert breaker.state == OK
    assert moves == []
    assert breaker.stats(at(0), POLICY) == (0.0, 10)


def test_the_trip_transition_carries_reason_ratio_calls_and_window() -> None:
    """OK -> DEGRADED names the ratio, the calls and the window it judged, and the open period."""
    breaker, moves = feed(Breaker(since=T0), [True] * 6 + [False] * 4, when=40.0)
    move = moves[0]
    assert move.reason == "failure ratio 0.60 >= 0.50 over 10 calls in 30s"
    assert move.failure_ratio == pytest.approx(0.6)
    assert move.calls == 10
    assert move.window_start == at(10.0)
    assert move.open_until == at(55.0)
    assert move.trips == 1
    assert breaker.since == at(40.0)
    assert breaker.open_until == at(55.0)
    assert breaker.window == ()


def test_transition_fields_are_plain_values_for_the_log() -> None:
    """``as_fields`` gives the log strings, numbers and times, the ratio rounded to 4 places."""
    policy = BreakerPolicy(min_calls=3)
    breaker = Breaker(since=T0)
    move = None
    for failed in (False, True, True):
        breaker, move = breaker.record(at(0), failed=failed, duration_s=0.0, policy=policy)
    assert move is not None
    assert move.as_fields() == {
        "from_state": "OK",
        "to_state": "DEGRADED",
        "reason": "failure ratio 0.67 >= 0.50 over 3 calls in 30s",
        "failure_ratio": 0.6667,
        "calls": 3,
        "window_start": at(-30),
        "open_until": at(15),
        "trips": 1,
    }


def test_a_custom_policy_trips_by_its_own_numbers() -> None:
    """min_calls and failure_ratio are configurable: 4 calls at 0.75 trip a (4, 0.75) policy."""
    policy = BreakerPolicy(min_calls=4, failure_ratio=0.75)
    breaker = Breaker(since=T0)
    moves = []
    for failed in [True, True, False, True]:
        breaker, move = breaker.record(T0, failed=failed, duration_s=0.0, policy=policy)
        moves.append(move)
    assert moves[:3] == [None, None, None]
    assert moves[3] is not None
    assert moves[3].to_state == DEGRADED


# -- DEGRADED -------------------------------------------------------------------------------


def test_degraded_admits_no_call() -> None:
    """While DEGRADED ``may_call`` is False and ``sent`` changes nothing."""
    breaker = tripped()
    assert not breaker.may_call(POLICY)
    assert breaker.sent(POLICY) == breaker


def test_results_finishing_while_degraded_are_ignored() -> None:
    """A result recorded while DEGRADED leaves the breaker exactly as it was."""
    breaker = tripped()
    for failed in (True, False):
        after, move = breaker.record(at(1), failed=failed, duration_s=0.0, policy=POLICY)
        assert after == breaker
        assert move is None


def test_degraded_lasts_fifteen_seconds_then_tick_moves_to_recovering() -> None:
    """A tick before 15 s changes nothing; at 15 s the breaker starts probing."""
    breaker = tripped(when=100.0)
    same, move = breaker.tick(at(114.999), POLICY)
    assert same == breaker
    assert move is None
    moved, move = breaker.tick(at(115.0), POLICY)
    assert moved.state == RECOVERING
    assert move is not None
    assert (move.from_state, move.to_state) == (DEGRADED, RECOVERING)
    assert move.reason == "open period over: probing"
    assert move.window_start == at(100.0)
    assert move.open_until is None
    assert move.trips == 1
    assert moved.trips == 1
    assert moved.probes_sent == 0


def test_tick_in_ok_or_recovering_changes_nothing() -> None:
    """Only DEGRADED moves with time alone."""
    ok = Breaker(since=T0)
    assert ok.tick(at(1000), POLICY) == (ok, None)
    probing = recovering(tripped())
    assert probing.tick(at(1000), POLICY) == (probing, None)


# -- RECOVERING -----------------------------------------------------------------------------


def test_recovering_lets_exactly_three_probes_through() -> None:
    """``may_call``/``sent`` account for the probes: three sends, then no more."""
    breaker = recovering(tripped())
    admitted = 0
    while breaker.may_call(POLICY) and admitted < 10:
        breaker = breaker.sent(POLICY)
        admitted += 1
    assert admitted == 3
    assert breaker.probes_sent == 3
    assert breaker.state == RECOVERING


def test_sent_in_ok_does_not_count_probes() -> None:
    """In OK every call may go and ``sent`` leaves the breaker unchanged."""
    breaker = Breaker(since=T0)
    assert breaker.may_call(POLICY)
    assert breaker.sent(POLICY) == breaker


@pytest.mark.parametrize("results", list(itertools.product([False, True], repeat=3)))
def test_three_probes_are_judged_by_the_failure_ratio(results: tuple[bool, ...]) -> None:
    """Under half of 3 probes failing -> OK, else DEGRADED, decided once certain."""
    breaker = recovering(tripped())
    start = breaker.open_until or breaker.since
    move: Transition | None = None
    used = 0
    for failed in results:
        breaker, move = probe(breaker, start, failed=failed)
        used += 1
        if move is not None:
            break
    assert move is not None
    expected = OK if sum(results) < 1.5 else DEGRADED
    assert breaker.state == expected
    assert move.to_state == expected
    assert move.calls == used
    decided = results[:used]
    assert move.failure_ratio == pytest.approx(sum(decided) / used)
    # The decision came at the first moment it was certain.
    assert used == (2 if decided[0] == decided[1] else 3)


def test_passing_probes_close_the_breaker_and_say_so() -> None:
    """RECOVERING -> OK names the probes, starts an empty window and resets the trips."""
    breaker = recovering(tripped())
    begun = breaker.since
    breaker, _ = probe(breaker, at(20), failed=False)
    breaker, move = probe(breaker, at(21), failed=False)
    assert move is not None
    assert move.reason == "probes passed: 2 of 2"
    assert move.window_start == begun
    assert move.failure_ratio == 0.0
    assert move.trips == 0
    assert breaker.state == OK
    assert breaker.trips == 0
    assert breaker.window == ()
    assert breaker.stats(at(21), POLICY) == (0.0, 0)
    assert breaker.ok_since == at(21)  # the shared window counts nothing from before
    assert Breaker.after(move).ok_since == at(21)


def test_failing_probes_reopen_the_breaker_and_say_so() -> None:
    """RECOVERING -> DEGRADED names the failed probes and doubles the open period."""
    breaker = recovering(tripped())
    breaker, _ = probe(breaker, at(20), failed=True)
    breaker, move = probe(breaker, at(21), failed=True)
    assert move is not None
    assert move.reason == "probes failed: 2 of 2"
    assert move.failure_ratio == 1.0
    assert move.calls == 2
    assert move.trips == 2
    assert move.open_until == at(21 + 30)


def test_probe_stats_count_only_the_probes() -> None:
    """In RECOVERING ``stats`` is over the probe results, not the old window."""
    breaker = recovering(tripped())
    breaker, _ = probe(breaker, at(20), failed=True)
    assert breaker.stats(at(20), POLICY) == (1.0, 1)


def test_the_open_period_doubles_on_each_retrip_up_to_five_minutes() -> None:
    """Consecutive trips stay open 15, 30, 60, 120, 240, 300, 300 s."""
    breaker = tripped()
    periods = []
    for _ in range(7):
        assert breaker.open_until is not None
        periods.append((breaker.open_until - breaker.since).total_seconds())
        breaker = recovering(breaker)
        now = breaker.since
        breaker, _ = probe(breaker, now, failed=True)
        breaker, move = probe(breaker, now, failed=True)
        assert move is not None
        assert move.to_state == DEGRADED
    assert periods == [15, 30, 60, 120, 240, 300, 300]
    assert breaker.trips == 8


def test_trips_reset_after_the_breaker_closes() -> None:
    """After RECOVERING -> OK the next trip is a first trip again: open 15 s."""
    breaker = recovering(tripped())
    breaker, _ = probe(breaker, breaker.since, failed=True)
    breaker, _ = probe(breaker, breaker.since, failed=True)
    assert breaker.trips == 2
    breaker = recovering(breaker)
    now = breaker.since
    breaker, _ = probe(breaker, now, failed=False)
    breaker, _ = probe(breaker, now, failed=False)
    assert breaker.state == OK
    assert breaker.trips == 0
    again, moves = feed(breaker, [True] * 10, when=(now - T0).total_seconds() + 1)
    assert again.state == DEGRADED
    assert moves[0].trips == 1
    assert again.open_until is not None
    assert (again.open_until - again.since).total_seconds() == 15


def test_open_for_follows_the_doubling_rule() -> None:
    """``open_for`` is min(300, 15 * 2**(trips-1)) and never overflows."""
    assert [POLICY.open_for(n) for n in range(1, 8)] == [15, 30, 60, 120, 240, 300, 300]
    assert POLICY.open_for(0) == 15
    assert POLICY.open_for(10_000) == 300


def test_restart_probes_starts_a_fresh_round_of_probes() -> None:
    """A taken-over probe round is RECOVERING again with no probe used, trips kept."""
    breaker = recovering(tripped()).sent(POLICY).sent(POLICY)
    fresh, move = breaker.restart_probes(at(50), "probe lease ran out")
    assert fresh.state == RECOVERING
    assert fresh.probes_sent == 0
    assert fresh.trips == 1
    assert fresh.since == at(50)
    assert move.reason == "probe lease ran out"
    assert (move.from_state, move.to_state) == (RECOVERING, RECOVERING)


def test_after_rebuilds_the_breaker_a_transition_left() -> None:
    """``Breaker.after`` adopts a recorded transition's state, time, open period and trips."""
    _, moves = feed(Breaker(since=T0), [True] * 10, when=5.0)
    adopted = Breaker.after(moves[0])
    assert adopted.state == DEGRADED
    assert adopted.since == at(5)
    assert adopted.open_until == at(20)
    assert adopted.trips == 1
    assert adopted.ok_since is None
    assert Breaker(since=T0).ok_since is None  # never away: the whole window counts


# -- a random walk --------------------------------------------------------------------------


class BreakerWalk(RuleBasedStateMachine):
    """Random sends, results and time steps, checked against a model window and probes."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.breaker = Breaker(since=T0)
        self.inflight: list[datetime] = []
        self.window: list[tuple[datetime, bool]] = []  # the model's calls since entering OK
        self.probes: list[bool] = []  # the model's probe results since entering RECOVERING
        self.sent_while_recovering = 0

    def adopt(self, after: Breaker, move: Transition | None) -> None:
        before = self.breaker
        if move is None:
            assert after.state == before.state
        else:
            assert move.from_state == before.state
            assert (move.from_state, move.to_state) in LEGAL_EDGES
            assert after.state == move.to_state
            assert move.at == self.now == after.since
            assert move.reason
            self.window, self.probes, self.sent_while_recovering = [], [], 0
        self.breaker = after

    @rule(seconds=st.one_of(st.floats(0, 2), st.floats(0, 40)))
    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        before = self.breaker
        after, move = before.tick(self.now, POLICY)
        due = (
            before.state == DEGRADED
            and before.open_until is not None
            and self.now >= before.open_until
        )
        assert (move is not None) == due
        self.adopt(after, move)

    @rule()
    def send(self) -> None:
        allowed = self.breaker.may_call(POLICY)
        if self.breaker.state == DEGRADED:
            assert not allowed
        if not allowed:
            return
        if self.breaker.state == RECOVERING:
            self.sent_while_recovering += 1
        self.breaker = self.breaker.sent(POLICY)
        self.inflight.append(self.now)

    @precondition(lambda self: bool(self.inflight))
    @rule(pick=st.integers(min_value=0), failed=st.booleans())
    def finish(self, pick: int, failed: bool) -> None:
        started = self.inflight.pop(pick % len(self.inflight))
        duration = (self.now - started).total_seconds()
        before = self.breaker
        after, move = before.record(self.now, failed=failed, duration_s=duration, policy=POLICY)
        counted_failed = failed or duration > POLICY.slow_call_s
        if before.state == DEGRADED:
            assert after == before
            assert move is None
        elif before.state == OK:
            self.window.append((self.now, counted_failed))
            start = self.now - timedelta(seconds=POLICY.window_s)
            recent = [f for t, f in self.window if t > start]
            ratio = sum(recent) / len(recent)
            trips = len(recent) >= POLICY.min_calls and ratio >= POLICY.failure_ratio
            assert (move is not None) == trips
            if move is not None:
                assert move.to_state == DEGRADED
                assert move.calls == len(recent)
                assert move.failure_ratio == pytest.approx(ratio)
                assert move.window_start == start
        else:
            self.probes.append(counted_failed)
            failures = sum(self.probes)
            passes = len(self.probes) - failures
            expected = DEGRADED if failures >= 2 else OK if passes >= 2 else None
            assert (move.to_state if move else None) == expected
        self.adopt(after, move)

    @precondition(lambda self: self.breaker.state == DEGRADED)
    @rule(failed=st.booleans(), duration=st.floats(0, 30))
    def late_result(self, failed: bool, duration: float) -> None:
        after, move = self.breaker.record(
            self.now, failed=failed, duration_s=duration, policy=POLICY
        )
        assert after == self.breaker
        assert move is None

    @invariant()
    def degraded_admits_nothing_and_stays_open_15_to_300_s(self) -> None:
        if self.breaker.state == DEGRADED:
            assert not self.breaker.may_call(POLICY)
            assert self.breaker.open_until is not None
            period = (self.breaker.open_until - self.breaker.since).total_seconds()
            assert 15 <= period <= 300
            assert period == POLICY.open_for(self.breaker.trips)
        else:
            assert self.breaker.open_until is None

    @invariant()
    def recovering_admits_at_most_the_probes(self) -> None:
        assert self.sent_while_recovering <= POLICY.probes
        if self.breaker.state == RECOVERING:
            assert self.breaker.probes_sent == self.sent_while_recovering
        if self.breaker.state == OK:
            assert self.breaker.trips == 0

    @invariant()
    def ok_stats_match_the_model_window(self) -> None:
        if self.breaker.state == OK:
            start = self.now - timedelta(seconds=POLICY.window_s)
            recent = [f for t, f in self.window if t > start]
            ratio = sum(recent) / len(recent) if recent else 0.0
            got_ratio, got_calls = self.breaker.stats(self.now, POLICY)
            assert got_calls == len(recent)
            assert got_ratio == pytest.approx(ratio)


BreakerWalk.TestCase.settings = settings(max_examples=60, stateful_step_count=50, deadline=None)
test_breaker_random_walk_keeps_its_invariants = BreakerWalk.TestCase
