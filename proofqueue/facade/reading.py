"""The facade's receipts, trails, the operator list, health and workers."""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence

from proofqueue.bootstrap import (
    Components,
)
from proofqueue.domain.intent import Status
from proofqueue.domain.receipt import Receipt, receipt_of
from proofqueue.usecases import audit, reads, submit, tlog
from proofqueue.usecases.shapes import DamagedEvent, Health, IntentRow, Trail, WorkerRow


class Reading:
    """Receipts, trails, the operator list, health and workers."""

    parts: Components

    # -- reads --------------------------------------------------------------------------

    def receipt(self, request_id: str) -> Receipt:
        """The public-safe receipt at the intent's current status. Once it is terminal and
        a signed checkpoint covers it, ``tlog_proof`` carries its c2sp.org/tlog-proof@v1
        text (index, inclusion hashes, the checkpoint), which anyone can check offline."""
        found = receipt_of(self.parts.log.intent(request_id))
        try:
            proof = tlog.tlog_proof(self.parts, found)
        except ValueError:  # a damaged event elsewhere left the tree or the
            proof = None  # checkpoint unusable: the receipt stands, without a tlog proof
        return found.model_copy(update={"tlog_proof": proof}) if proof else found

    def wait(self, request_id: str, timeout: float) -> Receipt:
        """The receipt once the intent is SETTLED or FAILED, or as it stands after
        ``timeout`` seconds (this process does not call the vendor: a worker does)."""
        seconds = submit.parse_wait(timeout, submit.MAX_WAIT_S)
        until = time.monotonic() + seconds
        while True:
            found = self.receipt(request_id)
            left = until - time.monotonic()
            if found.status in (Status.SETTLED, Status.FAILED) or left <= 0:
                return found
            time.sleep(min(0.1, left))

    def show(self, request_id: str) -> Trail:
        """The whole trail of an intent, sanitized: each event's seq, type, time, fields
        (params only as their public, redacted form) and hash; with ``waiting_for`` (why an
        open intent waits). ``IntentNotFound`` for an unknown request_id, ``TrailDamaged``
        when a stored event of it cannot be read."""
        return audit.show(self.parts, request_id)

    def catch_up(self) -> None:
        """Bring the views up to date with the log (every read does this itself)."""
        self.parts.projector.catch_up()

    def workers(self) -> builtins.list[WorkerRow]:
        """The workers seen on this store in the last hour, with their liveness (a heartbeat
        younger than the lease) and calls in flight."""
        return reads.workers(self.parts)

    def list(
        self,
        *,
        status: Sequence[Status | str] = (),
        actor: str | None = None,
        target: str | None = None,
        older_than: float | None = None,
        limit: int = 100,
        offset: int = 0,
        cursor: str | None = None,
    ) -> builtins.list[IntentRow]:
        """The operator list: QUEUED and RETRYING first, then SUBMITTED, SETTLED, FAILED;
        oldest first within each. Filters: ``status`` (any of them), ``actor``, ``target``,
        ``older_than`` (queued at least that many seconds ago); ``limit`` 1-10000 rows from
        ``offset``, or after ``cursor`` (keyset paging: see ``page``, which also answers
        the next page's cursor). ``InvalidInput`` for an unknown status, a limit out of
        range or a cursor this did not give."""
        return reads.list_intents(
            self.parts,
            status=status,
            actor=actor,
            target=target,
            older_than=older_than,
            limit=limit,
            offset=offset,
            cursor=cursor,
        )

    def page(
        self,
        *,
        status: Sequence[str] = (),
        actor: str | None = None,
        target: str | None = None,
        older_than: float | None = None,
        limit: int = 100,
        cursor: str = "start",
    ) -> tuple[builtins.list[IntentRow], str | None]:
        """A page of the operator list and the cursor of the next one (None after the last
        page): ``cursor="start"`` for the first page, then the cursor each page gives. A
        page deep in the list costs what the first one does, and a row whose status does
        not change while paging is seen exactly once."""
        return reads.list_page(
            self.parts,
            status=status,
            actor=actor,
            target=target,
            older_than=older_than,
            limit=limit,
            cursor=cursor,
        )

    def counts(self) -> dict[str, int]:
        """How many intents are in each status: ``{"QUEUED": n, ..., "FAILED": n}``."""
        return reads.counts(self.parts)

    def health(self) -> Health:
        """The breaker health view: state and since when, the live failure ratio and calls
        of the window every process shares, the backlog, the last transitions, the
        operator's hold (``held``); ``damaged`` and ``breaker_damaged`` name damaged stored
        events."""
        return reads.health(self.parts)

    def damaged(self) -> builtins.list[DamagedEvent]:
        """Every stored event the views found damaged and skipped: ``{"intent",
        "request_id", "aggregate_id", "event", "reason"}`` (``verify`` checks the chains)."""
        return reads.damaged(self.parts)
