"""The intent: one thing an agent wants bought, and everything that happened to it.

    Queued ─┬─ AttemptStarted ─┬─ Submitted ─┬─ Settled
            │                  │             └─ JobUnresolved (once per answer) ...
            │                  ├─ RetryScheduled ── AttemptStarted ...
            │                  └─ Failed
            └─ Failed (cancel, deadline)            Failed from any non-terminal state

``AttemptStarted`` is the claim on an attempt: it is written (with optimistic concurrency)
before the vendor is called, so an attempt runs in one place at a time, and a claim whose
lease ran out marks the attempt as possibly sent (ambiguous).

Command methods check the rules, then record one event. Time always comes in as ``now``.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from proofqueue.domain.chained import ChainedAggregate, times_from_text
from proofqueue.domain.errors import IllegalTransition

NAMESPACE = uuid.UUID("6f2b1c54-52a7-4c0e-9a55-0a1d3b0e7c11")


class Status(StrEnum):
    """An intent's status: QUEUED -> (RETRYING)* -> SUBMITTED -> SETTLED, or FAILED."""

    QUEUED = "QUEUED"
    RETRYING = "RETRYING"
    SUBMITTED = "SUBMITTED"
    SETTLED = "SETTLED"
    FAILED = "FAILED"


OPEN = frozenset({Status.QUEUED, Status.RETRYING})
TERMINAL = frozenset({Status.SETTLED, Status.FAILED})


_NAMESPACE_BYTES = NAMESPACE.bytes
# uuid.UUID(bytes=..., version=5): the variant bits 10, the version bits 0101.
_KEEP = ~((0xC000 << 48) | (0xF000 << 64))
_MARK = (0x8000 << 48) | (5 << 76)
_UNKNOWN = uuid.SafeUUID.unknown


def intent_id(request_id: str) -> uuid.UUID:
    """The aggregate id of a request_id: the same in every process, forever. It is
    ``uuid.uuid5(NAMESPACE, request_id)``, made without ``uuid.UUID``'s checks of its
    arguments (a submit makes one for each request)."""
    digest = hashlib.sha1(_NAMESPACE_BYTES + request_id.encode("utf-8")).digest()  # noqa: S324  (UUID version 5 is SHA-1)
    made = object.__new__(uuid.UUID)
    object.__setattr__(made, "int", int.from_bytes(digest[:16]) & _KEEP | _MARK)
    object.__setattr__(made, "is_safe", _UNKNOWN)
    return made


class Intent(ChainedAggregate):
    class Queued(ChainedAggregate.Created):
        request_id: str
        actor: str
        target: str
        params_public: dict[str, Any]
        params_sealed: str | None
        params_plain: dict[str, Any] | None
        params_digest: str
        max_attempts: int
        deadline: datetime
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            times_from_text(state, "deadline")

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.on_queued(self)

    class AttemptStarted(ChainedAggregate.Event):
        attempt: int
        worker: str
        lease_until: datetime
        takeover: bool
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            times_from_text(state, "lease_until")

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.attempts = self.attempt
            if self.takeover:
                aggregate.ambiguous = True
            aggregate.claim_until = self.lease_until
            aggregate.claimed_by = self.worker

    class RetryScheduled(ChainedAggregate.Event):
        attempt: int
        error: str
        status_code: int | None
        detail: str
        next_attempt_at: datetime
        ambiguous: bool
        operator: str | None
        max_attempts: int
        deadline: datetime
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            times_from_text(state, "next_attempt_at", "deadline")

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.status = Status.RETRYING
            aggregate.claim_until = None
            aggregate.ambiguous = aggregate.ambiguous or self.ambiguous
            aggregate.last_error = self.detail if self.operator is None else aggregate.last_error
            aggregate.next_attempt_at = self.next_attempt_at
            aggregate.max_attempts = self.max_attempts
            aggregate.deadline = self.deadline

    class Submitted(ChainedAggregate.Event):
        attempt: int
        job_id: str
        replayed: bool
        reconciled: str | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.status = Status.SUBMITTED
            aggregate.claim_until = None
            aggregate.job_id = self.job_id
            aggregate.job_note = None
            aggregate.next_attempt_at = None

    class JobUnresolved(ChainedAggregate.Event):
        """The vendor answered about the submitted job in a way that neither settles nor
        fails it (COMPLETED without a deliverable, a phase proofqueue does not know): the
        job is read again, less often; recorded once per distinct answer."""

        job_id: str
        phase: str
        detail: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.job_note = self.detail

    class Settled(ChainedAggregate.Event):
        job_id: str
        deliverable_id: str
        phase: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.status = Status.SETTLED
            aggregate.deliverable_id = self.deliverable_id
            aggregate.settled_at = self.timestamp
            aggregate.next_attempt_at = None

    class Failed(ChainedAggregate.Event):
        reason: str
        detail: str
        status_code: int | None
        operator: str | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.status = Status.FAILED
            aggregate.claim_until = None
            aggregate.failed_because = self.reason
            aggregate.failure = f"{self.reason}: {self.detail}"
            aggregate.last_error = aggregate.failure
            aggregate.next_attempt_at = None

    class Reopened(ChainedAggregate.Event):
        """An operator reopened a FAILED intent that the vendor holds no job for: QUEUED
        again, with a fresh budget. ``checked`` says how that was known."""

        operator: str
        reason: str
        checked: str
        max_attempts: int
        deadline: datetime

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.status = Status.QUEUED
            aggregate.ambiguous = False
            aggregate.claim_until = None
            aggregate.failure = None
            aggregate.failed_because = None
            aggregate.next_attempt_at = self.timestamp
            aggregate.max_attempts = self.max_attempts
            aggregate.deadline = self.deadline

    def __init__(self) -> None:
        """State is set by the events; see ``on_queued``."""

    def on_queued(self, event: Queued) -> None:
        self.request_id = event.request_id
        self.actor = event.actor
        self.target = event.target
        self.params_public = event.params_public
        self.params_sealed = event.params_sealed
        self.params_plain = event.params_plain
        self.params_digest = event.params_digest
        self.max_attempts = event.max_attempts
        self.deadline: datetime | None = event.deadline
        self.queued_at = event.timestamp
        self.status = Status.QUEUED
        self.attempts = 0
        self.ambiguous = False
        self.claim_until: datetime | None = None
        self.claimed_by: str | None = None
        self.next_attempt_at: datetime | None = event.timestamp
        self.last_error: str | None = None
        self.job_id: str | None = None
        self.job_note: str | None = None  # why the vendor's answer about the job is unclear
        self.deliverable_id: str | None = None
        self.settled_at: datetime | None = None
        self.failure: str | None = None
        self.failed_because: str | None = None

    # -- creation ---------------------------------------------------------------------------

    @classmethod
    def queue(
        cls,
        *,
        request_id: str,
        actor: str,
        target: str,
        params_public: dict[str, Any],
        params_sealed: str | None,
        params_plain: dict[str, Any] | None,
        params_digest: str,
        max_attempts: int,
        deadline: datetime,
        now: datetime,
    ) -> Intent:
        return cls._chain_create(
            cls.Queued,
            intent_id(request_id),
            now,
            request_id=request_id,
            actor=actor,
            target=target,
            params_public=params_public,
            params_sealed=params_sealed,
            params_plain=params_plain,
            params_digest=params_digest,
            max_attempts=max_attempts,
            deadline=deadline,
        )

    # -- rules ------------------------------------------------------------------------------

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def claimed(self, now: datetime) -> bool:
        """An attempt is in flight by the claim's own clock (advisory: whether a claim may
        be taken over is judged by the worker that watched it, not by wall clocks)."""
        return self.claim_until is not None and now < self.claim_until

    def is_due(self, now: datetime) -> bool:
        """An unclaimed attempt may start now (in the rules' view; the breaker decides too).
        A claimed one is due again only once a worker takes the claim over."""
        if self.status not in OPEN or self.claim_until is not None:
            return False
        return self.next_attempt_at is None or self.next_attempt_at <= now

    def budget_left(self, now: datetime) -> bool:
        within_deadline = self.deadline is None or now < self.deadline
        return self.attempts < self.max_attempts and within_deadline

    def check_open(self, action: str) -> None:
        if self.status not in OPEN:
            why = "the vendor already holds a job for it" if self.status == Status.SUBMITTED else ""
            raise IllegalTransition(self.request_id, action, self.status, why)

    # -- commands ---------------------------------------------------------------------------

    def start_attempt(
        self, *, worker: str, lease: timedelta, now: datetime, take_over: bool = False
    ) -> int:
        """Claim the next attempt. The save of this event is the lock. A claim that was
        never resolved is only taken over when the caller says its lease ran out
        (``take_over``); the new attempt then counts as possibly sent before."""
        self.check_open("start an attempt on")
        if self.claim_until is not None and not take_over:
            raise IllegalTransition(self.request_id, "start an attempt on", "claimed elsewhere")
        takeover = self.claim_until is not None  # a claim that was never resolved
        self._chain(
            self.AttemptStarted,
            now,
            attempt=self.attempts + 1,
            worker=worker,
            lease_until=now + lease,
            takeover=takeover,
        )
        return self.attempts

    def schedule_retry(
        self,
        *,
        error: str,
        status_code: int | None,
        detail: str,
        ambiguous: bool,
        next_attempt_at: datetime,
        now: datetime,
        unsent: bool = False,
    ) -> None:
        """Retry at ``next_attempt_at``. ``unsent``: the attempt never reached the vendor,
        so the budget grows by one (the count of attempts counts claims)."""
        self.check_open("schedule a retry of")
        self._chain(
            self.RetryScheduled,
            now,
            attempt=self.attempts,
            error=error,
            status_code=status_code,
            detail=detail,
            next_attempt_at=next_attempt_at,
            ambiguous=ambiguous,
            operator=None,
            max_attempts=self.max_attempts + (1 if unsent else 0),
            deadline=self.deadline or next_attempt_at,
        )

    def operator_retry(
        self, *, operator: str, extra_attempts: int, window: timedelta, now: datetime
    ) -> None:
        """Attempt now, re-arming the budget: ``extra_attempts`` more, deadline ``window`` on."""
        self.check_open("retry")
        if self.claimed(now):
            raise IllegalTransition(
                self.request_id, "retry", self.status, "an attempt is in flight; try again"
            )
        self._chain(
            self.RetryScheduled,
            now,
            attempt=self.attempts,
            error="operator",
            status_code=None,
            detail=f"retry requested by {operator}",
            next_attempt_at=now,
            ambiguous=False,
            operator=operator,
            max_attempts=self.attempts + extra_attempts,
            deadline=max(self.deadline or now, now + window),
        )

    def submit(self, *, job_id: str, replayed: bool, reconciled: str | None, now: datetime) -> None:
        self.check_open("record a submission of")
        self._chain(
            self.Submitted,
            now,
            attempt=self.attempts,
            job_id=job_id,
            replayed=replayed,
            reconciled=reconciled,
        )

    def note_job(self, *, phase: str, detail: str, now: datetime) -> bool:
        """Record an answer about the submitted job that neither settles nor fails it, once:
        False (nothing recorded) when it is the answer recorded last."""
        if self.status != Status.SUBMITTED or self.job_id is None:
            raise IllegalTransition(self.request_id, "note the job of", self.status)
        if detail == self.job_note:
            return False
        self._chain(self.JobUnresolved, now, job_id=self.job_id, phase=phase, detail=detail)
        return True

    def settle(self, *, deliverable_id: str, phase: str, now: datetime) -> None:
        if self.status != Status.SUBMITTED or self.job_id is None:
            raise IllegalTransition(self.request_id, "settle", self.status)
        self._chain(
            self.Settled, now, job_id=self.job_id, deliverable_id=deliverable_id, phase=phase
        )

    def fail(
        self,
        *,
        reason: str,
        detail: str,
        now: datetime,
        status_code: int | None = None,
        operator: str | None = None,
    ) -> None:
        if self.is_terminal:
            raise IllegalTransition(self.request_id, "fail", self.status)
        self._chain(
            self.Failed,
            now,
            reason=reason,
            detail=detail,
            status_code=status_code,
            operator=operator,
        )

    @property
    def job_impossible(self) -> bool:
        """Whether the vendor surely holds no job for it: never a create sent, or the last
        create refused (4xx) with no earlier attempt that may have reached the vendor."""
        if self.job_id is not None:
            return False
        if self.attempts == 0:
            return True
        return self.failed_because == "permanent" and not self.ambiguous

    def reopen(
        self,
        *,
        operator: str,
        reason: str,
        checked: str,
        extra_attempts: int,
        window: timedelta,
        now: datetime,
    ) -> None:
        """QUEUED again with a fresh budget, once the caller knows the vendor holds no job
        for it (``checked`` says how: no create reached it, or a lookup found none)."""
        if self.status != Status.FAILED:
            raise IllegalTransition(self.request_id, "reopen", self.status, "only FAILED is")
        if self.job_id is not None:
            raise IllegalTransition(
                self.request_id, "reopen", self.status, f"the vendor held job {self.job_id}"
            )
        self._chain(
            self.Reopened,
            now,
            operator=operator,
            reason=reason,
            checked=checked,
            max_attempts=self.attempts + extra_attempts,
            deadline=now + window,
        )

    def cancel(self, *, operator: str, reason: str, now: datetime) -> None:
        """Operator cancel: only while the vendor holds no job for it."""
        self.check_open("cancel")
        if self.claimed(now):
            raise IllegalTransition(
                self.request_id, "cancel", self.status, "an attempt is in flight; try again"
            )
        self.fail(reason="cancelled", detail=reason, operator=operator, now=now)
