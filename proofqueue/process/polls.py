"""When to read each submitted job next. Kept in memory: reads change nothing in the log,
and a restarted worker simply reads every job it follows once more."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from proofqueue.domain.intent import intent_id
from proofqueue.process.decisions import PollAgain


@dataclass
class Poll:
    at: float
    interval: float
    misses: int = 0


@dataclass
class Polls:
    poll_s: float
    _polls: dict[str, Poll] = field(default_factory=dict)
    _reported: dict[str, float] = field(default_factory=dict)

    def get(self, request_id: str) -> Poll | None:
        return self._polls.get(request_id)

    def due_in(self, request_id: str) -> float:
        """Seconds until the job of ``request_id`` is to be read next (a job seen for the
        first time is read after ``poll_s``)."""
        now = time.monotonic()
        poll = self._polls.setdefault(request_id, Poll(at=now + self.poll_s, interval=self.poll_s))
        return poll.at - now

    def again(self, request_id: str, decided: PollAgain) -> None:
        poll = self._polls.get(request_id)
        if poll is not None:
            poll.misses, poll.interval = decided.misses, decided.interval_s
            poll.at = time.monotonic() + decided.interval_s

    def done(self, request_id: str) -> None:
        self._polls.pop(request_id, None)

    def forget(self, keep: set[str]) -> None:
        """Drop the schedule of jobs no longer followed here."""
        # A snapshot of the keys: the calls in flight add and drop schedules meanwhile.
        for gone in [key for key in list(self._polls) if key not in keep]:
            self._polls.pop(gone, None)

    def next_reads(self) -> dict[str, float | None]:
        """When followed jobs are read next (intent id -> epoch seconds, or None for a job
        no longer followed here): only those whose schedule moved since the last call, so a
        heartbeat writes what changed, not every job this worker follows."""
        now, wall = time.monotonic(), time.time()
        moved: dict[str, float | None] = {}
        for request_id, poll in list(self._polls.items()):
            if self._reported.get(request_id) != poll.at:
                self._reported[request_id] = poll.at
                moved[str(intent_id(request_id))] = wall + poll.at - now
        for gone in [key for key in list(self._reported) if key not in self._polls]:
            del self._reported[gone]
            moved[str(intent_id(gone))] = None
        return moved
