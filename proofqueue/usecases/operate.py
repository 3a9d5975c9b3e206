"""Operator actions: retry and cancel, each recorded with the operator's name."""

from __future__ import annotations

import getpass
from datetime import timedelta

from eventsourcing.persistence import IntegrityError

from proofqueue.bootstrap import Components
from proofqueue.domain.errors import ConfigurationError, IllegalTransition, InvalidInput
from proofqueue.domain.intent import Intent
from proofqueue.domain.receipt import Receipt, receipt_of


def retry(parts: Components, request_id: str, operator: str | None) -> Receipt:
    """Attempt now, with the retry budget re-armed."""
    who = operator_name(operator)
    intent = parts.log.intent(request_id)
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
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason", "must not be empty")
    if len(reason) > 500:
        raise InvalidInput("reason", "at most 500 characters")
    intent = parts.log.intent(request_id)
    intent.cancel(operator=who, reason=reason.strip(), now=parts.clock())
    _save_or_refuse(parts, intent, "cancel")
    return receipt_of(intent)


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
    return operator.strip()


def hold_vendor(parts: Components, reason: str, operator: str | None) -> None:
    """Hold every call to the vendor until released (recorded with the operator's name)."""
    who = operator_name(operator)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason", "must not be empty")
    if len(reason) > 500:
        raise InvalidInput("reason", "at most 500 characters")
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
