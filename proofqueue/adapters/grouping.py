"""Group commit: threads that save at the same moment share one transaction.

The first caller to arrive commits (the leader); callers arriving while it commits queue
up, and when the leader is done the first of them commits everything queued by then, in
one transaction (one fsync). A lone caller commits at once: nobody waits for company.

Each item stays all-or-nothing and keeps its own answer: when the shared transaction is
refused (say one of the items exists already), each item is committed again in a
transaction of its own, so only the item that is refused fails, with its own error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

# Commits items together; returns, per item, None or the error that item alone met.
CommitEach = Callable[[Sequence[T]], list[BaseException | None]]


@dataclass
class _Waiting(Generic[T]):
    item: T
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to commit what is queued, not because it is done
    error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Commit items from many threads, those that arrive together in one transaction."""

    def __init__(self, commit_each: CommitEach[T], most: int = 500) -> None:
        self._commit_each = commit_each
        self._most = most
        self._lock = threading.Lock()
        self._queue: list[_Waiting[T]] = []
        self._busy = False
        self.commits = 0  # transactions made (for the benchmark's figures)

    def commit(self, item: T) -> None:
        """Commit ``item`` (with whatever else is queued); raise what it alone met."""
        mine = _Waiting(item)
        with self._lock:
            self._queue.append(mine)
            lead = not self._busy
            self._busy = True
        if not lead:
            mine.done.wait()
            if not mine.lead:
                self._answer(mine)
                return
        self._lead()
        self._answer(mine)

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[: self._most], self._queue[self._most :]
        try:
            errors = self._commit_each([waiting.item for waiting in batch])
        except BaseException as exc:  # the store failed: every item of the batch hears it
            errors = [exc] * len(batch)
        self.commits += 1
        with self._lock:
            successor = self._queue[0] if self._queue else None
            self._busy = successor is not None
        for waiting, error in zip(batch, errors, strict=True):
            waiting.error = error
            waiting.lead = False
            waiting.done.set()
        if successor is not None:  # the next batch is committed by the first who waits
            successor.lead = True
            successor.done.set()

    @staticmethod
    def _answer(mine: _Waiting[T]) -> None:
        if mine.error is not None:
            raise mine.error
