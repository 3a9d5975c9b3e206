"""Crash points for fault-injection runs (off unless PROOFQUEUE_CHAOS is set).

``PROOFQUEUE_CHAOS="after_claim=0.02,after_vendor_answer=0.05,in_projection=0.01"`` makes
the process die at once (``os._exit(137)``, as a SIGKILL would) at those points with those
probabilities. The fault suite uses it to kill a worker exactly where it hurts: with an
attempt claimed but not sent, between the vendor's answer and the event that records it,
and in the middle of a projection update. Unknown point names are refused.
"""

from __future__ import annotations

import os
import random
import threading

POINTS = ("after_claim", "after_vendor_answer", "in_projection")

_lock = threading.Lock()
_rates: dict[str, float] | None = None
_rng = random.Random()  # noqa: S311  (when to crash in tests, not security)


def _load() -> dict[str, float]:
    rates: dict[str, float] = {}
    for item in filter(
        None, (p.strip() for p in os.environ.get("PROOFQUEUE_CHAOS", "").split(","))
    ):
        name, _, value = item.partition("=")
        if name not in POINTS:
            raise ValueError(
                f"PROOFQUEUE_CHAOS: unknown point {name!r}; known: {', '.join(POINTS)}"
            )
        rates[name] = float(value)
    return rates


def maybe_crash(point: str) -> None:
    """Die here, like a SIGKILL, with the configured probability for ``point``."""
    global _rates
    if _rates is None:
        with _lock:
            _rates = _load()
    rate = _rates.get(point, 0.0)
    if rate and _rng.random() < rate:
        os._exit(137)
