"""Repeated failures in the worker (a round that cannot reach the store, a call on one intent
that keeps raising): each backs off and is logged once with its reason, never in a loop.

A failing key (``"round"``, or a request_id) waits ``base_s`` after its first failure,
doubling with each further one up to ``cap_s``; a success clears it. A reason is logged
the first time it is seen (with its traceback), then at most every ``retell_s`` with how
many times it happened meanwhile, and once more when the key works again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field


def reason_of(exc: BaseException) -> str:
    """One short line naming a failure: its type and message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


@dataclass
class Complaints:
    log: logging.Logger
    base_s: float = 1.0
    cap_s: float = 15.0
    retell_s: float = 300.0
    _failing: dict[str, tuple[int, float, str]] = field(default_factory=dict)
    _told: dict[str, tuple[float, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self, key: str, what: str, exc: BaseException) -> float:
        """Note a failure of ``key`` (``what`` names it for the log); return how long to
        wait before trying it again."""
        reason = reason_of(exc)
        now = time.monotonic()
        with self._lock:
            count = self._failing.get(key, (0, 0.0, ""))[0] + 1
            delay: float = min(self.cap_s, self.base_s * 2.0 ** min(count - 1, 30))
            self._failing[key] = (count, now + delay, reason)
            told = self._told.get(reason)
            if told is not None and now - told[0] < self.retell_s:
                self._told[reason] = (told[0], told[1] + 1)
                return delay
            self._told[reason] = (now, 0)
        if told is None:
            self.log.error(
                "%s failed: %s; trying again with backoff (up to %gs)",
                what,
                reason,
                self.cap_s,
                exc_info=exc,
            )
        else:
            self.log.error("%s still failing: %s (%d more times)", what, reason, told[1])
        return delay

    def ok(self, key: str, what: str) -> None:
        """``key`` worked: forget its failures."""
        with self._lock:
            gone = self._failing.pop(key, None)
            if gone is not None and not any(r == gone[2] for _, _, r in self._failing.values()):
                self._told.pop(gone[2], None)
        if gone is not None:
            self.log.info("%s works again after %d failures", what, gone[0])

    def waiting(self, key: str) -> bool:
        """Whether ``key`` failed lately and is still backing off."""
        with self._lock:
            found = self._failing.get(key)
        return found is not None and found[1] > time.monotonic()
