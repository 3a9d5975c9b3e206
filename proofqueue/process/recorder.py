"""Recording what the process manager decided: apply the decision to the intent and save
it, at once or gathered into one commit per worker round (group commit). A decision made
under a claim is recorded only while that claim is still its worker's: a worker paused past
its lease must not record over the one that took over (which looks the job up first).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.persistence import IntegrityError

from proofqueue.domain.errors import IllegalTransition
from proofqueue.domain.intent import Intent, Status
from proofqueue.ports import IntentStore
from proofqueue.process.decisions import Fail, NoteJob, ScheduleRetry, Settle, Submit

log = logging.getLogger("proofqueue.worker")

Recordable = Submit | ScheduleRetry | Fail | Settle | NoteJob


@dataclass(frozen=True)
class Claim:
    """An attempt this worker claimed, and how long it may still call the vendor: a call
    must end inside the lease, measured by this process's monotonic clock from before the
    claim was saved, so that it ends before any other worker may take the claim over."""

    attempt: int
    started: float
    lease_s: float
    call_s: float

    def may_call(self) -> bool:
        return time.monotonic() - self.started + self.call_s < self.lease_s


@dataclass
class Known:
    """The intents as this worker last saved them (at most ``most``, none terminal): a
    read of a job it submitted takes the intent from here when the views show that very
    version, instead of loading it from the log. Had the intent moved since in the log
    (the views lag), its save is refused and the decision applied again to it reloaded,
    as for any intent that moved between its load and its save."""

    most: int = 10_000
    _intents: dict[str, Intent] = field(default_factory=dict)
    _finished: dict[str, int] = field(default_factory=dict)  # terminal: the version saved
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def saved(self, intent: Intent) -> None:
        with self._lock:
            self._intents.pop(intent.request_id, None)
            kept: dict[str, Any] = self._intents
            if intent.is_terminal:
                kept = self._finished
                self._finished[intent.request_id] = intent.version
            else:
                self._intents[intent.request_id] = intent
            if len(kept) > self.most:  # the oldest saved first
                del kept[next(iter(kept))]

    def finished(self, request_id: str, version: int) -> bool:
        """Whether this worker saved the intent terminal after ``version`` (the views
        have not caught up with it yet: its job need not be read again)."""
        with self._lock:
            return self._finished.get(request_id, 0) > version

    def forget(self, request_id: str) -> None:
        """Its save was refused (or failed): the object holds events the log has not."""
        with self._lock:
            self._intents.pop(request_id, None)

    def at(self, request_id: str, version: int) -> Intent | None:
        """The intent as saved here, if that is ``version``."""
        with self._lock:
            intent = self._intents.get(request_id)
        return intent if intent is not None and intent.version == version else None


@dataclass
class Applied:
    """Decisions applied to their intents, not saved yet."""

    items: list[tuple[Intent, Recordable, Claim | None]] = field(default_factory=list)

    @property
    def intents(self) -> list[Intent]:
        return [intent for intent, _, _ in self.items]

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass
class Recorder:
    log: IntentStore
    worker: str
    clock: Callable[[], datetime]
    # Makes an error detail safe for the trail (no secret of the intent's params).
    clean: Callable[[Intent, str], str]
    # Gather decisions for ``flush`` (the worker's group commit) instead of saving each.
    batched: bool = False
    known: Known = field(default_factory=Known)
    _pending: list[tuple[Intent, Recordable, Claim | None]] = field(default_factory=list)
    _since: float | None = None  # when the oldest decision gathered was made (monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, intent: Intent, decided: Recordable, claim: Claim | None = None) -> None:
        if self.batched:
            with self._lock:
                if not self._pending:
                    self._since = time.monotonic()
                self._pending.append((intent, decided, claim))
            return
        self.record_now(intent, decided, claim)

    def waiting_s(self) -> float:
        """How long the oldest decision gathered for ``flush`` has waited (0 for none)."""
        with self._lock:
            return 0.0 if self._since is None else time.monotonic() - self._since

    def flush(self) -> int:
        """Record the decisions gathered since the last flush in one commit (the worker's
        group commit); a conflict sends each back through ``record_now`` alone."""
        applied = self.take()
        if applied:
            try:
                self.log.save(*applied.intents)
            except IntegrityError:
                self.refused(applied)
                return len(applied.items)
            except BaseException:
                self.unsaved(applied)
                raise
            self.saved(applied)
        return len(applied.items)

    def take(self) -> Applied:
        """The decisions gathered since the last flush, applied to their intents: to be
        saved by the caller (in one commit, maybe with more), then ``saved`` or
        ``refused``."""
        with self._lock:
            batch, self._pending, self._since = self._pending, [], None
        applied = Applied()
        for intent, decided, claim in batch:
            if claim is not None and not self._still_mine(intent, claim):
                self._superseded(intent, decided, claim)
                continue
            try:
                self._apply(intent, decided)
            except IllegalTransition as exc:
                log.info("%s: %s", intent.request_id, exc)
                continue
            applied.items.append((intent, decided, claim))
        return applied

    def saved(self, applied: Applied) -> None:
        for intent, _, _ in applied.items:
            self.known.saved(intent)
            self._log_recorded(intent)

    def unsaved(self, applied: Applied) -> None:
        """The commit holding ``applied`` failed: its intents hold events the log has not."""
        for intent, _, _ in applied.items:
            self.known.forget(intent.request_id)

    def refused(self, applied: Applied) -> None:
        """The commit holding ``applied`` was refused (a concurrent write): record each
        decision alone on its intent reloaded (the failed commit used up their events)."""
        self.unsaved(applied)
        for intent, decided, claim in applied.items:
            self.record_now(self.log.intent(intent.request_id), decided, claim)

    def _still_mine(self, intent: Intent, claim: Claim) -> bool:
        return intent.claimed_by == self.worker and intent.attempts == claim.attempt

    def _superseded(self, intent: Intent, decided: Recordable, claim: Claim) -> None:
        log.warning(
            "%s: attempt %d was taken over by %s; not recording %s (the job is"
            " looked up by the attempt that took over)",
            intent.request_id,
            claim.attempt,
            intent.claimed_by,
            describe(decided),
        )

    def _log_recorded(self, intent: Intent) -> None:
        noted = intent.status == Status.SUBMITTED and intent.job_note is not None
        if intent.status != Status.RETRYING and not noted:
            log.info(
                "%s: %s %s",
                intent.request_id,
                intent.status.value,
                intent.job_id or intent.failure or "",
            )

    def record_now(self, intent: Intent, decided: Recordable, claim: Claim | None = None) -> None:
        """Record a decision; on a concurrent write, reload and apply it again. A decision
        made under a claim is recorded only while that claim is still this worker's: a
        worker paused past its lease must not record over the one that took over (which
        looks the job up before buying)."""
        for _ in range(5):
            if claim is not None and not self._still_mine(intent, claim):
                self._superseded(intent, decided, claim)
                return
            self.known.forget(intent.request_id)  # saved again below, or not known
            try:
                self._apply(intent, decided)
                self.log.save(intent)
                self.known.saved(intent)
                self._log_recorded(intent)
                return
            except IntegrityError:
                intent = self.log.intent(intent.request_id)
            except IllegalTransition as exc:
                log.info("%s: %s", intent.request_id, exc)
                return
        log.warning("%s: gave up recording after repeated conflicts", intent.request_id)

    def _apply(self, intent: Intent, decided: Recordable) -> None:
        now = self.clock()
        if isinstance(decided, Submit):
            intent.submit(
                job_id=decided.job_id,
                replayed=decided.replayed,
                reconciled=decided.reconciled,
                now=now,
            )
        elif isinstance(decided, ScheduleRetry):
            intent.schedule_retry(
                error=decided.error,
                status_code=decided.status_code,
                detail=self.clean(intent, decided.detail),
                ambiguous=decided.ambiguous,
                next_attempt_at=decided.next_attempt_at,
                now=now,
                unsent=decided.unsent,
            )
        elif isinstance(decided, Settle):
            intent.settle(deliverable_id=decided.deliverable_id, phase=decided.phase, now=now)
        elif isinstance(decided, NoteJob):
            intent.note_job(phase=decided.phase, detail=self.clean(intent, decided.detail), now=now)
        else:
            intent.fail(
                reason=decided.reason,
                detail=self.clean(intent, decided.detail),
                status_code=decided.status_code,
                now=now,
            )


def describe(decided: Recordable) -> str:
    if isinstance(decided, Submit):
        return f"the submission of job {decided.job_id}"
    return type(decided).__name__
