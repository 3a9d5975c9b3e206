"""The simulator's faults: the seeded dice that draw them, the dropped connection a reset
answers with, and the pauses of the slow and timeout faults.

The dice are one ``random.Random(seed)`` behind one lock.

Every random choice the simulator makes comes from here, in the order the calls ask for them:
a vendor call draws its fault first; a create with a reset fault then tosses the coin; a create
that makes a job draws the job's fate when it makes it. The same seed and the same calls give
the same faults and fates.
"""

from __future__ import annotations

import asyncio
import random
import threading

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .config import Fate, Fault, SimConfig


class Dice:
    """The seeded random draws: a call's fault, a coin, a job's fate."""

    def __init__(self, seed: int | None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # noqa: S311 (fault injection, not security)

    def draw(self, config: SimConfig, *, create: bool) -> Fault | None:
        """At most one fault, from one uniform draw over the rates laid end to end."""
        slices: tuple[tuple[Fault, float], ...] = (
            ("rate_limited", config.rate_limit),
            ("fail_before", config.fail_before),
            ("timeout", config.timeout_rate),
            ("reset", config.reset_rate),
            ("fail_after", config.fail_after if create else 0.0),
            ("slow", config.slow_rate),
            # Added later, after the others: a seed draws the same faults as before.
            ("redirect_after", config.redirect_after if create else 0.0),
            ("bad_job_id", config.bad_job_id if create else 0.0),
            ("drip", config.drip_rate),
            ("oversized", config.oversized_rate),
        )
        with self._lock:
            u = self._rng.random()
        edge = 0.0
        for fault, rate in slices:
            edge += rate
            if u < edge:
                return fault
        return None

    def coin(self) -> bool:
        with self._lock:
            return self._rng.random() < 0.5

    def chance(self, rate: float) -> bool:
        """True at ``rate``; draws nothing when ``rate`` is 0 (seeded runs stay the same)."""
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def fate(self, config: SimConfig) -> Fate:
        """How a new job ends: REJECTED, EXPIRED or COMPLETED, at the configured rates."""
        with self._lock:
            u = self._rng.random()
        if u < config.reject_rate:
            return "REJECTED"
        if u < config.reject_rate + config.expire_rate:
            return "EXPIRED"
        return "COMPLETED"


class SimulatedReset(Exception):
    """Raised inside the app to make the server drop the connection mid-answer."""


class DroppedConnection(Response):
    """Starts an answer, sends part of it, then makes the server drop the connection: how a
    reset fault answers."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"data": ', "more_body": True})
        raise SimulatedReset("connection dropped by the vendor simulator")


def bad_job_id(huge: bool) -> str:
    """A job id no client should store: 100 KB long, or holding line breaks that would
    forge lines wherever it is printed."""
    if huge:
        return "job-" + "9" * 100_000
    return "job-1\nproofqueue: forged line\u2028and more"


def oversized(payload: bytes, size: int = 3 * 1024 * 1024) -> bytes:
    """``payload`` (a JSON object) padded past any client's answer cap (3 MiB)."""
    return payload[:-1] + b', "padding": "' + b"x" * size + b'"}'


class Dripping(Response):
    """An answer whose body never finishes: headers, then one byte every 0.1 s until the
    simulator stops it after ``seconds`` (it closes the body unfinished)."""

    def __init__(self, seconds: float, pauses: Pauses) -> None:
        super().__init__()
        self.seconds, self.pauses = seconds, pauses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"data": ', "more_body": True})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        while loop.time() < deadline and not self.pauses.closing:
            await self.pauses.pause(0.1)
            await send({"type": "http.response.body", "body": b" ", "more_body": True})
        raise SimulatedReset("a dripping answer ended by the vendor simulator")


class Pauses:
    """The waits of the slow and timeout faults, all cut short once the simulator is closing."""

    def __init__(self) -> None:
        self._closing = threading.Event()

    def close(self) -> None:
        self._closing.set()

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    async def pause(self, seconds: float) -> None:
        """Sleeps on the event loop clock; ends early when the simulator is closing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._closing.is_set():
            left = deadline - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.05))
