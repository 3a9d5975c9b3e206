"""Group commit for threads: submits made at the same moment share one transaction.

The first caller to arrive leads: it makes every queued item ready (validation, redaction,
sealing, the new intent: ``usecases.batch.prepare_item``), takes in those that queue up
while it does, and saves them all in one commit (``record_prepared``). Callers arriving
once it saves queue up and sleep; when the leader is done, the first of them leads what
queued by then. A lone caller leads at once: nobody waits for company.

When the last commit held other callers' items, the leader, each time nothing more is
queued, lets the interpreter go (``sleep(0)``) before it saves, until that brings no one:
the callers the last commit woke are runnable and queue their next items at once, so they
join this commit instead of the next. With eight threads on a two-core machine, commits
held 7.3 submits instead of 4.5, and 1,400-1,950 submits a second against 1,300-1,750 (7
alternating pairs, 6 won; benchmark figure S6's threads, SQLite file). A caller alone
since its last commit never yields.

The leader does the Python work of the whole group, while the others sleep. When every
thread made its own item ready, eight threads took turns with the interpreter on both
cores of a two-core machine and spent 40% more CPU a submit than one thread did (the
objects they all touch moved from core to core at each turn): 1,400-1,600 submits a
second against 2,100-2,200 this way (benchmark figure S6, SQLite file).

Each item keeps its own answer: an invalid item, or one whose request_id was recorded with
other content, fails alone (``record_prepared``); a failure of the store fails the group.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import sleep
from typing import Generic, TypeVar, cast

T = TypeVar("T")
P = TypeVar("P")
R = TypeVar("R")


@dataclass
class _Waiting(Generic[T, R]):
    item: T
    done: threading.Event | None = None  # made for a caller who waits (a leader does not)
    lead: bool = False  # woken to commit what is queued, not because it is done
    outcome: R | BaseException | None = None


class ThreadGroupCommit(Generic[T, P, R]):
    """Commit items from many threads, those that arrive together in one transaction:
    ``prepare`` makes each ready (never raises: an item's error is its outcome), ``save``
    commits them together and answers, per item, its result or the error it alone met."""

    def __init__(
        self,
        prepare: Callable[[T], P],
        save: Callable[[Sequence[P]], Sequence[R | BaseException]],
        most: int = 500,
    ) -> None:
        self._prepare = prepare
        self._save = save
        self._most = most
        self._lock = threading.Lock()
        self._queue: list[_Waiting[T, R]] = []
        self._busy = False
        self._company = False  # the last commit held other callers' items
        self.commits = 0  # transactions made (for the benchmark's figures)

    def commit(self, item: T) -> R:
        """Commit ``item`` (with whatever else is queued); its result, or raise what it
        alone met."""
        mine: _Waiting[T, R] = _Waiting(item)
        with self._lock:
            self._queue.append(mine)
            lead = not self._busy
            self._busy = True
            if not lead:
                mine.done = threading.Event()
        if mine.done is not None:
            try:
                mine.done.wait()
            except BaseException:  # interrupted (KeyboardInterrupt): the others go on
                self._leave(mine)
                raise
        if lead or mine.lead:
            self._lead()
        outcome = mine.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return cast(R, outcome)

    def _lead(self) -> None:
        batch: list[_Waiting[T, R]] = []
        outcomes: Sequence[R | BaseException]
        try:
            prepared: list[P] = []
            yielded = False
            while len(batch) < self._most:  # those who queue meanwhile join this batch
                with self._lock:
                    taken = self._queue[: self._most - len(batch)]
                    del self._queue[: len(taken)]
                if not taken:
                    if yielded or not self._company:
                        break
                    yielded = True  # once: if that brings no one, save
                    sleep(0)
                    continue
                yielded = False
                batch += taken
                prepared += [self._prepare(waiting.item) for waiting in taken]
            outcomes = self._save(prepared)
        except BaseException as exc:  # the store failed: every item of the batch hears it
            outcomes = [exc] * len(batch)
        self.commits += 1
        self._company = len(batch) > 1
        with self._lock:
            successor = self._next_leader()
        for waiting, outcome in zip(batch, outcomes, strict=True):
            waiting.outcome = outcome
            waiting.lead = False
            if waiting.done is not None:
                waiting.done.set()
        self._wake(successor)

    def _next_leader(self) -> _Waiting[T, R] | None:
        """The first who waits, made the next leader (under the lock), or None: not busy."""
        successor = self._queue[0] if self._queue else None
        self._busy = successor is not None
        if successor is not None:
            successor.lead = True
        return successor

    @staticmethod
    def _wake(successor: _Waiting[T, R] | None) -> None:
        # It came while a batch was busy, so it waits on its event.
        if successor is not None and successor.done is not None:
            successor.done.set()

    def _leave(self, mine: _Waiting[T, R]) -> None:
        """A caller that stops waiting: out of the queue if its item is still there (it is
        not committed), and if it was made the next leader, the first after it leads."""
        successor = None
        with self._lock:
            for n, waiting in enumerate(self._queue):
                if waiting is mine:
                    del self._queue[n]
                    if mine.lead:
                        successor = self._next_leader()
                    break
        self._wake(successor)
