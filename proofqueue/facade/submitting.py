"""The facade's recording intents and driving their first attempt."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from proofqueue.bootstrap import (
    Components,
)
from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.intent import Intent
from proofqueue.domain.receipt import Receipt, receipt_of
from proofqueue.usecases import submit


class Submitting:
    """Recording intents and driving their first attempt."""

    parts: Components

    # -- submit -------------------------------------------------------------------------

    def submit(
        self,
        request_id: Any,
        *,
        actor: Any,
        target: Any,
        params: Any = None,
        wait: float = 0.0,
    ) -> Receipt:
        """Record an intent (once per request_id, forever) and, while the breaker is OK,
        attempt it at once; wait up to ``wait`` seconds for it to settle. While the breaker
        is not OK, answer QUEUED at once without calling the vendor."""
        seconds = submit.parse_wait(wait, submit.MAX_WAIT_S)
        request, intent = submit.prepare(self.parts, request_id, actor, target, params)
        return self._drive(submit.record_new(self.parts, request, intent), seconds)

    def submit_many(self, items: Sequence[Mapping[str, Any]]) -> list[Receipt]:
        """Record many intents in one transaction (one commit) and answer their receipts;
        the worker buys them. Each item holds ``request_id``, ``actor``, ``target`` and
        ``params``, and is idempotent as in ``submit``. If any item is invalid, nothing is
        written and the error names the item."""
        return submit.submit_many(self.parts, items)

    def record(
        self, request_id: Any, *, actor: Any, target: Any, params: Any = None
    ) -> tuple[Receipt, bool]:
        """Record an intent (once per request_id, forever) without calling the vendor; answer
        its receipt and whether it is new (False: the same request was already recorded).
        ``attempt`` (or a worker) buys it."""
        request, intent = submit.prepare(self.parts, request_id, actor, target, params)
        saved = submit.record_new(self.parts, request, intent)
        return receipt_of(saved), saved is intent

    def attempt(self, request_id: str, *, follow: float = 0.0) -> Receipt:
        """Attempt a recorded intent now while the breaker is OK (a no-op without a vendor or
        while it is not OK, or when the intent is not due), then follow it for up to
        ``follow`` seconds. Blocks on the vendor: callers on an event loop run it in a
        bounded thread pool of their own."""
        seconds = submit.parse_wait(follow, submit.MAX_WAIT_S)
        return self._drive(self.parts.log.intent(request_id), seconds)

    async def asubmit(
        self, request_id: Any, *, actor: Any, target: Any, params: Any = None, wait: float = 0.0
    ) -> Receipt:
        """``submit`` for asyncio callers: runs in a worker thread, never blocks the loop."""
        return await asyncio.to_thread(
            self.submit, request_id, actor=actor, target=target, params=params, wait=wait
        )

    def _drive(self, intent: Intent, wait: float) -> Receipt:
        """Attempt now if the breaker is OK; then react to the intent for up to ``wait`` s."""
        manager, guard = self.parts.manager, self.parts.guard
        if manager is None or guard.sync(drive=False) != BreakerState.OK or guard.held is not None:
            return receipt_of(intent)
        request_id = intent.request_id
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
