"""Benchmark: a submit's validation and redaction alone, in µs of CPU per call.

Times ``parse_request`` and ``sanitize`` (and both, as ``prepare`` runs them) on the params
every benchmark buys (``bench.intents.params``) and on a larger, secret-holding request (a
header list, a nested body, a URL with a token), each the best of ``REPEATS`` rounds of all the
calls (process time: the machine is shared, the best round is the least disturbed).

    python -m bench.prepare [CALLS]      (default: 20000 calls a round)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from bench.intents import ACTOR, TARGET, params
from proofqueue.domain.request import parse_request
from proofqueue.domain.sanitize import sanitize

REPEATS = 5


def larger(index: int) -> dict[str, Any]:
    """A larger request holding secrets, its texts different in every call (no cache helps)."""
    return {
        "brief": f"a minimal logo for a coffee roaster, warm colours, no text ({index})",
        "callback": f"https://hooks.example.com/done/{index}?token=sk-test-0123456789abcdef",
        "headers": [["Accept", "application/json"], ["Authorization", f"Bearer ab{index:08d}"]],
        "body": {"items": [{"sku": f"cup-{index}-{i}", "qty": i, "price": 4.5} for i in range(8)]},
        "api_key": f"k-{index}",
        "notes": ["rush", "gift wrap", f"deliver to the back door, ring twice, order {index}"],
    }


def per_call(run: Callable[[int], object], calls: int) -> float:
    """The best of ``REPEATS`` rounds, in µs of process time per call."""
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for i in range(calls):
            run(i)
        best = min(best, time.process_time() - started)
    return best / calls * 1e6


def measure(made: list[dict[str, Any]]) -> dict[str, float]:
    """µs per call of each step over ``made`` (one params a call)."""
    calls = len(made)
    parsed = [parse_request(f"r-{i}", ACTOR, TARGET, made[i]).params for i in range(calls)]

    def parse(i: int) -> object:
        return parse_request(f"r-{i}", ACTOR, TARGET, made[i])

    def both(i: int) -> object:
        return sanitize(parse_request(f"r-{i}", ACTOR, TARGET, made[i]).params)

    return {
        "parse_request": per_call(parse, calls),
        "sanitize": per_call(lambda i: sanitize(parsed[i]), calls),
        "both": per_call(both, calls),
    }


def main(calls: int) -> None:
    """Print µs per call of each step on the two kinds of request."""
    cases: dict[str, Callable[[int], dict[str, Any]]] = {
        "bench.intents params": params,
        "larger, with secrets": larger,
    }
    for name, make in cases.items():
        figures = measure([make(i) for i in range(calls)])
        shown = "  ".join(f"{step} {us:6.2f} µs" for step, us in figures.items())
        print(f"{name:22s} {shown}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
