"""What each intent event does to its intent's row of ``pq_intents``, held in memory as a
dict of its columns: ``views._apply_row`` for a batch (``batch.py``). An intent event not
in ``CHANGES`` (nor a subclass of one) changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proofqueue.domain.intent import Intent
from proofqueue.projections.views import ts


def change(row: dict[str, Any], event: Any) -> None:
    """Change ``row`` as ``event`` does (``CHANGES``, by isinstance: for a subclass too)."""
    for kind, changing in CHANGES.items():
        if isinstance(event, kind):
            changing(row, event)
            return


def _started(row: dict[str, Any], event: Any) -> None:
    row["attempts"] = event.attempt
    row["claim_until"] = ts(event.lease_until)
    _moved(row, event)


def _retrying(row: dict[str, Any], event: Any) -> None:
    if not event.operator:
        row["last_error"] = event.detail
    row.update(
        status="RETRYING", sort_rank=1, next_attempt_at=ts(event.next_attempt_at),
        claim_until=None,
    )  # fmt: skip
    _moved(row, event)


def _submitted(row: dict[str, Any], event: Any) -> None:
    row.update(
        status="SUBMITTED", sort_rank=2, job_id=event.job_id, job_note=None,
        next_attempt_at=None, claim_until=None,
    )  # fmt: skip
    _moved(row, event)


def _unresolved(row: dict[str, Any], event: Any) -> None:
    row["job_note"] = event.detail
    _moved(row, event)


def _settled(row: dict[str, Any], event: Any) -> None:
    at = ts(event.timestamp)
    row.update(status="SETTLED", sort_rank=4, deliverable_id=event.deliverable_id, settled_at=at)
    row["updated_at"], row["version"] = at, event.originator_version


def _reopened(row: dict[str, Any], event: Any) -> None:
    at = ts(event.timestamp)
    row.update(status="QUEUED", sort_rank=0, last_error=None, next_attempt_at=at, claim_until=None)
    row["updated_at"], row["version"] = at, event.originator_version


def _failed(row: dict[str, Any], event: Any) -> None:
    row.update(
        status="FAILED", sort_rank=3, last_error=f"{event.reason}: {event.detail}",
        next_attempt_at=None, claim_until=None,
    )  # fmt: skip
    _moved(row, event)


def _moved(row: dict[str, Any], event: Any) -> None:
    row["updated_at"], row["version"] = ts(event.timestamp), event.originator_version


# What each intent event the views show does to its row (any other changes nothing).
CHANGES: dict[type, Callable[[dict[str, Any], Any], None]] = {
    Intent.AttemptStarted: _started,
    Intent.RetryScheduled: _retrying,
    Intent.Submitted: _submitted,
    Intent.JobUnresolved: _unresolved,
    Intent.Settled: _settled,
    Intent.Reopened: _reopened,
    Intent.Failed: _failed,
}
