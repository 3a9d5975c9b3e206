"""The facade's recording intents and driving their first attempt."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping, Sequence

from proofqueue.bootstrap import (
    Components,
)
from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.jsonvalue import JsonValue
from proofqueue.domain.receipt import Receipt, receipt_of
from proofqueue.facade.thread_grouping import ThreadGroupCommit
from proofqueue.usecases import submit
from proofqueue.usecases.batch import Item, Prepared, Recorded
from proofqueue.usecases.shapes import NewIntent

# However small ``wait``, a submit may block this long for its first attempt (a healthy
# vendor answers well within it); a slower attempt goes on in the background.
INLINE_S = 1.0

log = logging.getLogger("proofqueue")


class Submitting:
    """Recording intents and driving their first attempt."""

    parts: Components
    # Submits from threads at the same moment: one commit (set by ``ProofQueue``).
    _submits: ThreadGroupCommit[Item, Prepared | Exception, Recorded]

    # -- submit -------------------------------------------------------------------------

    def submit(
        self,
        request_id: str,
        *,
        actor: str,
        target: str,
        params: Mapping[str, JsonValue] | None = None,
        wait: float = 0.0,
    ) -> Receipt:
        """Record an intent (once per request_id, forever) and, while the breaker is OK,
        attempt it at once; wait up to ``wait`` seconds for it to settle. While the breaker
        is not OK, answer QUEUED at once without calling the vendor. Blocks at most
        ``max(wait, INLINE_S)`` seconds (1 s), however slow the vendor: an attempt that
        takes longer goes on in the background (or, if this process ends, in a worker).

        ``request_id``: the idempotency key, 1-255 printable ASCII characters, no spaces;
        ``actor``: who asks; ``target``: ``<provider>/<offering>``; ``params``: the job's
        requirements, a JSON object of at most 64 KiB, 16 levels deep (stored sealed when
        it holds a secret). Raises ``InvalidInput`` (one line naming the field),
        ``IdempotencyConflict`` (the request_id was recorded with other content) or
        ``SecretNeedsKey``; nothing is written then."""
        seconds = submit.parse_wait(wait, submit.MAX_WAIT_S)
        recorded = self._submits.commit(Item(request_id, actor, target, params))
        return self._drive(recorded.receipt, seconds)

    def submit_many(self, items: Sequence[NewIntent]) -> list[Receipt]:
        """Record many intents in one transaction (one commit) and answer their receipts;
        the worker buys them. Each item holds ``request_id``, ``actor``, ``target`` and
        ``params``, and is idempotent as in ``submit``. If any item is invalid, nothing is
        written and the error names the item."""
        return submit.submit_many(self.parts, items)

    def record(
        self,
        request_id: str,
        *,
        actor: str,
        target: str,
        params: Mapping[str, JsonValue] | None = None,
    ) -> tuple[Receipt, bool]:
        """Record an intent (once per request_id, forever) without calling the vendor; answer
        its receipt and whether it is new (False: the same request was already recorded).
        ``attempt`` (or a worker) buys it."""
        recorded = self._submits.commit(Item(request_id, actor, target, params))
        return recorded.receipt, recorded.new

    def attempt(self, request_id: str, *, follow: float = 0.0) -> Receipt:
        """Attempt a recorded intent now while the breaker is OK (a no-op without a vendor or
        while it is not OK, or when the intent is not due), then follow it for up to
        ``follow`` seconds. Blocks on the vendor: callers on an event loop run it in a
        bounded thread pool of their own."""
        seconds = submit.parse_wait(follow, submit.MAX_WAIT_S)
        intent = self.parts.log.intent(request_id)
        if not self._may_attempt():
            return receipt_of(intent)
        return self._drive_now(request_id, seconds)

    async def asubmit(
        self,
        request_id: str,
        *,
        actor: str,
        target: str,
        params: Mapping[str, JsonValue] | None = None,
        wait: float = 0.0,
    ) -> Receipt:
        """``submit`` for asyncio callers: runs in a worker thread, never blocks the loop."""
        return await asyncio.to_thread(
            self.submit, request_id, actor=actor, target=target, params=params, wait=wait
        )

    def _may_attempt(self) -> bool:
        manager, guard = self.parts.manager, self.parts.guard
        return not (
            manager is None or guard.sync(drive=False) != BreakerState.OK or guard.held is not None
        )

    def _drive(self, receipt: Receipt, wait: float) -> Receipt:
        """Attempt now if the breaker is OK, and follow the intent for up to ``wait`` s; the
        caller is answered after ``max(wait, INLINE_S)`` at most. An attempt still running
        then (a vendor that hangs) goes on in the background; if this process ends first,
        its claim is taken over by a worker once the lease runs out, and looked up first."""
        if not self._may_attempt():
            return receipt
        request_id = receipt.request_id
        done: list[Receipt] = []
        failed: list[BaseException] = []

        def drive() -> None:
            try:
                done.append(self._drive_now(request_id, wait))
            except BaseException as exc:  # handed to the caller if it still waits
                failed.append(exc)
                log.warning("first attempt of %s failed: %s", request_id, exc)

        thread = threading.Thread(target=drive, name="proofqueue-attempt", daemon=True)
        thread.start()
        thread.join(max(wait, INLINE_S))
        if failed:
            raise failed[0]
        if done:
            return done[0]
        return receipt_of(self.parts.log.intent(request_id))

    def _drive_now(self, request_id: str, wait: float) -> Receipt:
        """Attempt now, then react to the intent for up to ``wait`` seconds."""
        manager = self.parts.manager
        if manager is None:
            return receipt_of(self.parts.log.intent(request_id))
        manager.attempt(request_id)
        until = time.monotonic() + wait
        while True:
            intent = self.parts.log.intent(request_id)
            remaining = until - time.monotonic()
            if intent.is_terminal or remaining <= 0:
                return receipt_of(intent)
            before = intent.version
            pause = manager.react(intent)
            if pause is None and self.parts.log.intent(request_id).version != before:
                continue  # it moved: look again at once
            time.sleep(min(pause or 0.05, remaining))
