"""When to try again: exponential backoff with full jitter.

    delay(n) = uniform(0, min(cap, base * 2**(n-1)))   for the n-th failed attempt (n >= 1)

A vendor's ``Retry-After`` is a floor: the delay is never shorter than what it asked for,
and never longer than the whole budget (an absurd or infinite one is clamped to it; NaN is
ignored). Randomness comes in as ``rand`` in [0, 1), so the policy is a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Retries with full jitter: ``uniform(0, min(cap_s, base_s * 2**n))``; the budget is
    ``max_attempts`` attempts or ``budget_s`` seconds from queueing, whichever comes first."""

    base_s: float = 0.5
    cap_s: float = 60.0
    max_attempts: int = 12
    budget_s: float = 24 * 3600.0

    def ceiling(self, failed_attempts: int) -> float:
        """The largest delay full jitter may draw after ``failed_attempts`` failures."""
        exponent = min(max(failed_attempts - 1, 0), 64)
        return min(self.cap_s, self.base_s * 2.0**exponent)

    def delay(self, failed_attempts: int, rand: float, retry_after: float | None = None) -> float:
        if not 0.0 <= rand < 1.0:
            raise ValueError(f"rand must be in [0, 1), got {rand}")
        jittered = rand * self.ceiling(failed_attempts)
        if retry_after is not None and retry_after > jittered:  # (False for NaN)
            return min(retry_after, self.budget_s)
        return jittered
