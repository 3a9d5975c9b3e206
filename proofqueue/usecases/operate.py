"""Operator actions: retry and cancel, each recorded with the operator's name."""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from eventsourcing.persistence import IntegrityError

from proofqueue.bootstrap import Components
from proofqueue.domain.errors import (
    ConfigurationError,
    IllegalTransition,
    InvalidInput,
    Refused,
)
from proofqueue.domain.intent import Intent, Status
from proofqueue.domain.receipt import Receipt, receipt_of
from proofqueue.ports import Found, Job, LookupUnsupported
from proofqueue.usecases import reads

BULK_PAGE = 1000
# Terminal control (ESC sequences clear or rewrite an operator's screen when the trail is
# shown), other C0/C1 controls, lone surrogates and bidirectional controls (text shown in
# another order than stored): refused in a reason or an operator name.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)


def _reason(reason: object) -> str:
    """A reason as the trail may record it, or InvalidInput naming what is wrong."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason", "must not be empty")
    if len(reason) > 500:
        raise InvalidInput("reason", "at most 500 characters")
    if _CONTROL.search(reason):
        raise InvalidInput("reason", "must not contain control characters")
    return reason


def retry(
    parts: Components, request_id: str, operator: str | None, reason: str | None = None
) -> Receipt:
    """Attempt now, with the retry budget re-armed; a FAILED intent is reopened when the
    vendor holds no job for it (looked up first when an attempt may have reached it)."""
    who = operator_name(operator)
    if reason is not None:
        reason = _reason(reason)
    intent = parts.log.intent(request_id)
    if intent.status == Status.FAILED:
        return _reopen(parts, intent, who, reason or f"reopened by {who}")
    intent.operator_retry(
        operator=who,
        extra_attempts=parts.settings.retry.max_attempts,
        window=timedelta(seconds=parts.settings.retry.budget_s),
        now=parts.clock(),
    )
    _save_or_refuse(parts, intent, "retry")
    return receipt_of(intent)


def cancel(parts: Components, request_id: str, reason: str, operator: str | None) -> Receipt:
    """Fail an intent the vendor holds no job for."""
    who = operator_name(operator)
    reason = _reason(reason)
    intent = parts.log.intent(request_id)
    if intent.ambiguous and intent.status in (Status.QUEUED, Status.RETRYING):
        job = _look_up(parts, intent, "cancel")  # an attempt may have bought it already
        if job is not None:
            _record_found(parts, intent, job)
            raise IllegalTransition(
                request_id,
                "cancel",
                "SUBMITTED",
                f"the vendor holds job {job.job_id} for it: recorded it instead",
            )
    intent.cancel(operator=who, reason=reason.strip(), now=parts.clock())
    _save_or_refuse(parts, intent, "cancel")
    return receipt_of(intent)


def _reopen(parts: Components, intent: Intent, who: str, reason: str) -> Receipt:
    checked = "no create reached the vendor"
    if not intent.job_impossible:
        if intent.job_id is not None:
            raise IllegalTransition(
                intent.request_id, "retry", intent.status, f"the vendor held job {intent.job_id}"
            )
        job = _look_up(parts, intent, "retry")
        checked = "a lookup found no job at the vendor"
        if job is not None:
            intent.reopen(
                operator=who, reason=reason, checked=f"a lookup found job {job.job_id}",
                extra_attempts=parts.settings.retry.max_attempts,
                window=timedelta(seconds=parts.settings.retry.budget_s), now=parts.clock(),
            )  # fmt: skip
            intent.submit(job_id=job.job_id, replayed=False, reconciled="lookup", now=parts.clock())
            _save_or_refuse(parts, intent, "retry")
            return receipt_of(intent)
    intent.reopen(
        operator=who,
        reason=reason,
        checked=checked,
        extra_attempts=parts.settings.retry.max_attempts,
        window=timedelta(seconds=parts.settings.retry.budget_s),
        now=parts.clock(),
    )
    _save_or_refuse(parts, intent, "retry")
    return receipt_of(intent)


def _look_up(parts: Components, intent: Intent, action: str) -> Job | None:
    """The job the vendor holds for the intent, or None when it surely holds none; refuses
    (nothing written) when that cannot be known now."""
    if parts.manager is None:
        raise IllegalTransition(
            intent.request_id,
            action,
            intent.status,
            "an attempt may have reached the vendor: set PROOFQUEUE_VENDOR_URL so the job can"
            " be looked up first",
        )
    found = parts.manager.look_up(intent.request_id)
    if isinstance(found, Found):
        return found.jobs[0] if found.jobs else None
    why = {
        type(None): "the breaker or a hold keeps the vendor closed now",
        LookupUnsupported: "the vendor offers no lookup",
    }.get(type(found), "the lookup failed")
    raise IllegalTransition(
        intent.request_id,
        action,
        intent.status,
        f"an attempt may have reached the vendor and {why}: check the vendor for a job first",
    )


def _record_found(parts: Components, intent: Intent, job: Job) -> None:
    intent.submit(job_id=job.job_id, replayed=False, reconciled="lookup", now=parts.clock())
    _save_or_refuse(parts, intent, "cancel")


def _save_or_refuse(parts: Components, intent: Intent, action: str) -> None:
    try:
        parts.log.save(intent)
    except IntegrityError:
        fresh = parts.log.intent(intent.request_id)
        raise IllegalTransition(
            intent.request_id, action, fresh.status, "it changed meanwhile; try again"
        ) from None


def operator_name(operator: str | None) -> str:
    """The name recorded in the trail: the one given, else the login name."""
    if operator is None:
        try:
            operator = getpass.getuser()
        except (KeyError, OSError):
            operator = "unknown"
    if not isinstance(operator, str) or not operator.strip() or len(operator) > 200:
        raise InvalidInput("operator", "must be 1-200 characters")
    if _CONTROL.search(operator) or any(ch in operator for ch in "\t\n\r"):
        raise InvalidInput("operator", "must not contain control characters")
    return operator.strip()


def hold_vendor(parts: Components, reason: str, operator: str | None) -> None:
    """Hold every call to the vendor until released (recorded with the operator's name)."""
    who = operator_name(operator)
    reason = _reason(reason)
    _need_vendor(parts, "hold")
    parts.guard.hold(operator=who, reason=" ".join(reason.split()))


def release_vendor(parts: Components, operator: str | None) -> None:
    who = operator_name(operator)
    _need_vendor(parts, "release")
    parts.guard.release(operator=who)


def _need_vendor(parts: Components, action: str) -> None:
    if parts.vendor is None:
        raise ConfigurationError(
            f"vendor {action}: set PROOFQUEUE_VENDOR_URL to name the vendor (its breaker is"
            " keyed by it)"
        )


@dataclass(frozen=True)
class BulkReport:
    """What a bulk action did: how many matched, the ids acted on, and each refusal."""

    matched: int
    acted: list[str]
    refused: list[tuple[str, str]]
    dry_run: bool


def bulk(
    parts: Components,
    act: Callable[[str], object],
    *,
    statuses: Sequence[str],
    target: str | None,
    older_than: float | None,
    dry_run: bool,
) -> BulkReport:
    """Run ``act`` on every intent matching the filter, each with its own event; a refusal
    of one (say, a job may exist) is reported and the others go on."""
    if not statuses:
        raise InvalidInput("status", "name the statuses to act on (for example FAILED)")
    ids: list[str] = []
    offset = 0
    while True:
        rows = reads.list_intents(
            parts,
            status=statuses,
            actor=None,
            target=target,
            older_than=older_than,
            limit=BULK_PAGE,
            offset=offset,
        )
        ids.extend(row.request_id for row in rows)
        if len(rows) < BULK_PAGE:
            break
        offset += BULK_PAGE
    if dry_run:
        return BulkReport(len(ids), [], [], True)
    acted, refused = [], []
    for request_id in ids:
        try:
            act(request_id)
        except Refused as exc:
            refused.append((request_id, str(exc)))
        else:
            acted.append(request_id)
    return BulkReport(len(ids), acted, refused, False)
