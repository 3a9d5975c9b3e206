"""One measurement in a process of its own: ``python -m bench.child NAME JSON_KWARGS``.

Prints the measurement's result as one JSON line, the last line of its output.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

# name -> (module, function); modules are imported only when used, so a contender that is
# not installed (DBOS) breaks its own measurement and nothing else.
MEASUREMENTS: dict[str, tuple[str, str]] = {
    "build": ("bench.intents", "build_store"),
    "submit": ("bench.submit", "proofqueue_submits"),
    "async-submit": ("bench.asubmit", "async_submits"),
    "raw-insert": ("bench.submit", "raw_inserts"),
    "probe": ("bench.probe", "probe"),
    "pq-worker": ("bench.e2e", "proofqueue_worker"),
    "pq-inline": ("bench.e2e", "proofqueue_inline"),
    "httpx": ("bench.e2e", "plain_httpx"),
    "dbos": ("bench.dbos_flow", "dbos_flow"),
    "drain": ("bench.drain", "drain"),
    "replay": ("bench.replay", "replay"),
    "raw-read": ("bench.replay", "raw_read"),
    "list": ("bench.listing", "list_latency"),
    "fleet-drain": ("bench.fleet", "fleet_drain"),
    "breaker-record": ("bench.breaker", "breaker_record"),
    "rounds": ("bench.rounds", "worker_rounds"),
    "console": ("bench.console", "console_latency"),
    "scale-build": ("bench.scale_log", "build_log"),
    "scale-catch-up": ("bench.scale_measure", "catch_up"),
    "scale-verify": ("bench.scale_measure", "verify_all"),
    "scale-breaker": ("bench.scale_measure", "breaker_first_load"),
    "scale-reads": ("bench.scale_measure", "read_latency"),
    "scale-view-writes": ("bench.scale_measure", "view_writes"),
    "scale-concurrent": ("bench.scale_submit", "concurrent_submits"),
}


def measurement(name: str) -> Callable[..., dict[str, Any]]:
    module, function = MEASUREMENTS[name]
    found: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), function)
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in MEASUREMENTS:
        print(f"usage: python -m bench.child {{{','.join(MEASUREMENTS)}}} JSON", file=sys.stderr)
        return 2
    result = measurement(argv[0])(**json.loads(argv[1]))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
