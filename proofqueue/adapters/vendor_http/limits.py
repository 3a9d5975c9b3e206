"""The answer size cap and the per-call deadline, and reading a capped body.

``_Reader`` keeps an answer's body up to ``MAX_ANSWER_BYTES`` (or the client's cap) and
stops at the call's deadline (``TOTAL_TIMEOUT_S`` by default); ``_Answer`` is what came back
and whether reading was cut short; ``_timeout`` is a client's connect and read timeouts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

MAX_ANSWER_BYTES = 1024 * 1024
TOTAL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class _Answer:
    """What came back. ``cut``: reading stopped early, at the size cap or the deadline."""

    status: int  # 0: the deadline passed before the status line came
    headers: httpx.Headers
    body: bytes
    cut: str | None = None  # None, "size" or "deadline"


class _Reader:
    """Collects an answer's body up to a size cap and a deadline."""

    def __init__(self, limit: int, deadline: float, clock: Callable[[], float]) -> None:
        self.limit, self.deadline, self.clock = limit, deadline, clock
        self.parts: list[bytes] = []
        self.size = 0
        self.cut: str | None = None

    def take(self, chunk: bytes) -> bool:
        """Keeps ``chunk``; False when reading must stop."""
        if self.clock() > self.deadline:
            self.cut = "deadline"
            return False
        room = self.limit - self.size
        if len(chunk) > room:
            self.parts.append(chunk[:room])
            self.size = self.limit
            self.cut = "size"
            return False
        self.parts.append(chunk)
        self.size += len(chunk)
        return True

    def answer(self, response: httpx.Response) -> _Answer:
        return _Answer(response.status_code, response.headers, b"".join(self.parts), self.cut)


def _timeout(connect_timeout: float, read_timeout: float) -> httpx.Timeout:
    return httpx.Timeout(read_timeout, connect=connect_timeout)


_LATE = _Answer(0, httpx.Headers(), b"", "deadline")


def _read(reader: _Reader, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        if not reader.take(chunk):
            return
