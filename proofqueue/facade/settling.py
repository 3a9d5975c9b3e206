"""Waiting for intents to settle, for asyncio callers, without holding a thread.

Every caller waiting in this process is served by one watcher task: each ``poll_s`` it reads,
off the loop and in one short call, the events recorded since its last look (the log's
notification sequence, whoever wrote them: this process's worker or another process), and
reloads only the waited-for intents that moved. A waiter holds no thread: it awaits a
future, so cancelling it stops its wait at once and a timeout is an ``asyncio`` timeout.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Callable, Iterable

from proofqueue.bootstrap import Components
from proofqueue.domain.intent import TERMINAL, intent_id
from proofqueue.domain.receipt import Receipt
from proofqueue.facade.offload import Offload

log = logging.getLogger("proofqueue")

# Notifications read per query while catching up with the log.
PAGE = 500


def _key(originator_id: object) -> str:
    try:
        return str(uuid.UUID(str(originator_id)))
    except ValueError:
        return ""


def moved_since(parts: Components, cursor: int, ids: Iterable[str]) -> tuple[int, set[str]]:
    """The log's position now, and which of ``ids`` (request_ids) have events after
    ``cursor``. Blocking: runs off the loop."""
    by_key = {str(intent_id(request_id)): request_id for request_id in ids}
    moved: set[str] = set()
    recorder = parts.log.recorder
    while True:
        page = recorder.select_notifications(start=cursor + 1, limit=PAGE)
        for notification in page:
            found = by_key.get(_key(notification.originator_id))
            if found is not None:
                moved.add(found)
        if page:
            cursor = page[-1].id
        if len(page) < PAGE:
            return cursor, moved


def log_position(parts: Components) -> int:
    """The id of the latest event in the log (0 when empty). Blocking."""
    return parts.log.recorder.max_notification_id() or 0


class Settlements:
    """Serves ``wait`` for every asyncio caller of one facade with one watcher task.

    A waiter may say from which log position its first receipt is known (``since``: a
    submit knows the position of its own ``Queued`` event): the watcher then needs no read
    of that intent until an event of it comes after that position. Any other waiter is
    read once on the watcher's next look."""

    def __init__(
        self,
        parts: Callable[[], Components],
        receipt: Callable[[str], Receipt],
        run: Offload,
        *,
        poll_s: float,
    ) -> None:
        self._parts = parts
        self._receipt = receipt
        self._run = run
        self._poll_s = poll_s
        self._waiting: dict[str, list[asyncio.Future[Receipt]]] = {}
        # Registered since the watcher's last look: request_id -> since (None: unknown).
        self._new: dict[str, int | None] = {}
        self._task: asyncio.Task[None] | None = None

    async def wait(
        self,
        request_id: str,
        seconds: float,
        first: Receipt | None = None,
        since: int | None = None,
    ) -> Receipt:
        """The receipt once the intent is SETTLED or FAILED, or as it stands after
        ``seconds``. ``first``: the receipt the caller already holds (saves a read), as it
        stood at log position ``since`` when that is known."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        if first is None:
            first, since = await self._read(request_id), None
        if first.is_final or seconds <= 0:
            return first
        future: asyncio.Future[Receipt] = loop.create_future()
        self._waiting.setdefault(request_id, []).append(future)
        if request_id in self._new:  # waited for twice: the older position counts
            old = self._new[request_id]
            since = None if old is None or since is None else min(old, since)
        self._new[request_id] = since
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch(), name="proofqueue-settlements")
        try:
            async with asyncio.timeout_at(deadline):
                return await future
        except TimeoutError:
            pass
        finally:
            self._forget(request_id, future)
        return await self._read(request_id)

    def cancel_all(self) -> None:
        """Stop the watcher (the facade is closing); waiters see ``CancelledError``."""
        if self._task is not None:
            self._task.cancel()
        for futures in self._waiting.values():
            for future in futures:
                future.cancel()
        self._waiting.clear()

    async def _read(self, request_id: str) -> Receipt:
        return await self._run(lambda: self._receipt(request_id))

    def _forget(self, request_id: str, future: asyncio.Future[Receipt]) -> None:
        futures = self._waiting.get(request_id)
        if futures is None:
            return
        if future in futures:
            futures.remove(future)
        if not futures:
            del self._waiting[request_id]

    async def _watch(self) -> None:
        cursor: int | None = None  # every event up to here has been looked at
        while self._waiting:
            await asyncio.sleep(0 if cursor is None else self._poll_s)
            new, self._new = self._new, {}
            if cursor is None:  # start where the earliest known first receipt stood
                cursor = min((s for s in new.values() if s is not None), default=None)
            # Read at once: those whose first receipt is older than the events looked at.
            fresh = {r for r, s in new.items() if s is None or cursor is None or s < cursor}
            ids = set(self._waiting)
            try:
                cursor, final = await self._run(
                    functools.partial(self._look, cursor, ids, fresh & ids)
                )
            except Exception as exc:  # the store failed: waiters time out; try again
                log.warning("waiting for settlements: cannot read the log: %s", exc)
                self._new = {**dict.fromkeys(fresh), **self._new}
                continue
            for request_id, receipt in final.items():
                for future in self._waiting.pop(request_id, []):
                    if not future.done():
                        future.set_result(receipt)

    def _look(
        self, cursor: int | None, ids: set[str], fresh: set[str]
    ) -> tuple[int, dict[str, Receipt]]:
        """Blocking, in one call: the log's new events (from ``cursor``, or from now), then
        the final receipts of the waited-for intents that moved, and of ``fresh``."""
        parts = self._parts()
        if cursor is None:
            position, moved = log_position(parts), set[str]()
        else:
            position, moved = moved_since(parts, cursor, ids)
        final = {}
        for request_id in moved | fresh:
            if parts.log.intent(request_id).status in TERMINAL:
                final[request_id] = self._receipt(request_id)
        return position, final
