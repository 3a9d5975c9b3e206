"""Retry delays (``proofqueue.domain.backoff``): full jitter, Retry-After as a floor."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue.domain.backoff import RetryPolicy

POLICY = RetryPolicy()
RANDS = [0.0, 1e-9, 0.25, 0.5, 0.75, 0.999999, math.nextafter(1.0, 0.0)]

unit_interval = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


def bound(n: int, base: float = 0.5, cap: float = 60.0) -> float:
    """The full-jitter ceiling after the n-th failed attempt: min(cap, base * 2**(n-1))."""
    return min(cap, base * 2.0 ** (n - 1))


def test_the_defaults_are_those_of_the_design() -> None:
    """Base 0.5 s, cap 60 s, 12 attempts, 24 h."""
    assert (POLICY.base_s, POLICY.cap_s, POLICY.max_attempts, POLICY.budget_s) == (
        0.5,
        60.0,
        12,
        86_400.0,
    )


def test_the_ceiling_doubles_from_half_a_second_up_to_the_cap() -> None:
    """0.5, 1, 2, 4, 8, 16, 32, 60, 60 ... seconds for attempts 1, 2, 3 ..."""
    assert [POLICY.ceiling(n) for n in range(1, 11)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        60.0,
        60.0,
        60.0,
    ]


def test_the_ceiling_never_overflows_for_huge_attempt_counts() -> None:
    """A very large attempt number is capped, not an OverflowError."""
    assert POLICY.ceiling(10_000) == 60.0


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 12, 30, 100])
@pytest.mark.parametrize("rand", RANDS)
def test_the_delay_is_rand_times_the_ceiling(n: int, rand: float) -> None:
    """Full jitter: the delay is ``rand`` of the way from 0 to min(cap, base * 2**(n-1))."""
    delay = POLICY.delay(n, rand)
    assert 0.0 <= delay <= bound(n)
    assert delay == pytest.approx(rand * bound(n))


def test_rand_zero_means_no_delay_and_rand_near_one_the_full_ceiling() -> None:
    """The ends of [0, 1) map to the ends of the jitter range."""
    assert POLICY.delay(4, 0.0) == 0.0
    assert POLICY.delay(4, math.nextafter(1.0, 0.0)) == pytest.approx(4.0)
    assert POLICY.delay(4, math.nextafter(1.0, 0.0)) < 4.0


@settings(deadline=None)
@given(
    n=st.integers(min_value=1, max_value=200),
    rand=unit_interval,
    base=st.floats(min_value=0.001, max_value=10.0),
    cap=st.floats(min_value=0.001, max_value=3600.0),
)
def test_the_delay_stays_within_the_full_jitter_bounds(
    n: int, rand: float, base: float, cap: float
) -> None:
    """For any attempt, rand, base and cap: 0 <= delay <= min(cap, base * 2**(n-1))."""
    policy = RetryPolicy(base_s=base, cap_s=cap)
    delay = policy.delay(n, rand)
    ceiling = min(cap, base * 2.0 ** min(n - 1, 64))
    assert 0.0 <= delay <= ceiling
    assert delay == pytest.approx(rand * ceiling)


@settings(deadline=None)
@given(n=st.integers(min_value=1, max_value=50), a=unit_interval, b=unit_interval)
def test_a_larger_rand_never_gives_a_shorter_delay(n: int, a: float, b: float) -> None:
    """The delay is monotone in ``rand``."""
    low, high = sorted((a, b))
    assert POLICY.delay(n, low) <= POLICY.delay(n, high)


def test_retry_after_is_a_floor() -> None:
    """A vendor's Retry-After longer than the jittered delay is what we wait."""
    assert POLICY.delay(1, 0.5, retry_after=7.0) == 7.0
    assert POLICY.delay(20, 0.0, retry_after=120.0) == 120.0


def test_retry_after_shorter_than_the_jitter_does_not_shorten_it() -> None:
    """Retry-After is a floor, not a replacement: a longer jittered delay is kept."""
    assert POLICY.delay(8, 0.5, retry_after=1.0) == pytest.approx(30.0)


@settings(deadline=None)
@given(
    n=st.integers(min_value=1, max_value=50),
    rand=unit_interval,
    retry_after=st.floats(min_value=0.0, max_value=10_000.0),
)
def test_the_delay_is_the_larger_of_jitter_and_retry_after(
    n: int, rand: float, retry_after: float
) -> None:
    """delay == max(full jitter, Retry-After) for any inputs."""
    delay = POLICY.delay(n, rand, retry_after=retry_after)
    assert delay >= retry_after
    assert delay == pytest.approx(max(rand * bound(n), retry_after))


@pytest.mark.parametrize("rand", [1.0, 1.5, -0.0001, -1.0, math.inf, -math.inf, math.nan])
def test_rand_outside_the_unit_interval_is_refused(rand: float) -> None:
    """``rand`` must be in [0, 1): anything else is a ValueError naming it."""
    with pytest.raises(ValueError, match=r"rand must be in \[0, 1\)"):
        POLICY.delay(1, rand)
