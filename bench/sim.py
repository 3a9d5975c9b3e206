"""The vendor simulator in a process of its own, so it never shares a GIL with what is
measured; started through the project's own CLI (``proofqueue vendor-sim``)."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from bench.machine import ROOT

COMPLETE_AFTER_S = 0.05


@dataclass(frozen=True)
class Calls:
    """Vendor calls counted by the simulator (``GET /_sim/stats``)."""

    creates: int
    reads: int
    lookups: int
    other: int
    jobs: int
    duplicates: int

    @property
    def total(self) -> int:
        return self.creates + self.reads + self.lookups + self.other


def calls(url: str) -> Calls:
    stats = httpx.get(f"{url}/_sim/stats", timeout=10).json()
    requests: dict[str, int] = stats["requests"]
    creates = sum(n for k, n in requests.items() if k.startswith("create_"))
    reads = sum(n for k, n in requests.items() if k.startswith("get_"))
    lookups = sum(n for k, n in requests.items() if k.startswith("lookup_"))
    other = sum(requests.values()) - creates - reads - lookups
    return Calls(creates, reads, lookups, other, stats["jobs"], stats["duplicates"])


@contextmanager
def vendor_sim(complete_after: float = COMPLETE_AFTER_S) -> Iterator[str]:
    """A fresh simulator (no faults) on a free loopback port; yields its base URL."""
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(  # noqa: S603  (this interpreter, fixed arguments)
            [
                sys.executable,
                "-m",
                "proofqueue",
                "vendor-sim",
                "--port",
                "0",
                "--complete-after",
                f"{complete_after:g}",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            found = re.search(r"https?://\S+", line)
            if not found:
                proc.wait(timeout=10)
                errors.seek(0)
                raise RuntimeError(f"vendor simulator did not start: {line}{errors.read()}")
            yield found.group(0)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stdout:
                proc.stdout.close()
