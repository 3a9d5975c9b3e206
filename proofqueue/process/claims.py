"""Helpers of the process manager's shells: saving a round's claims in one commit, and
the order sent to the vendor (params opened from their seal), with error details scrubbed of
the params' secrets before they reach the trail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError

from proofqueue.domain.errors import IllegalTransition
from proofqueue.domain.intent import Intent
from proofqueue.domain.request import split_target
from proofqueue.domain.sanitize import redact_text, secret_values
from proofqueue.ports import IntentStore, JobOrder, Sealer

# The longest error detail recorded in the trail (a budget failure quotes the last error).
DETAIL_MAX = 1000


def save_claims(
    log: IntentStore,
    ready: list[tuple[Intent, bool]],
    claim_again: Callable[[Intent, bool], None],
    along: Sequence[Intent] = (),
) -> tuple[dict[str, Intent], bool]:
    """Save the claims (intent, whether it takes a claim over) in one commit, with the
    intents ``along`` (the round's recorded decisions); if one conflicts, claim each afresh
    alone (the failed commit used up their events). Answers the claims saved, and whether
    ``along`` was saved (if not, the caller records those decisions again)."""
    if not ready and not along:
        return {}, True
    try:
        log.save(*along, *(intent for intent, _ in ready))
        return {intent.request_id: intent for intent, _ in ready}, True
    except IntegrityError:
        if len(ready) == 1 and not along:
            return {}, False
    saved = {}
    for stale, take_over in ready:
        intent = log.intent(stale.request_id)
        watched = stale.version - 1  # the version the claim was made on
        if take_over and (intent.claim_until is None or intent.version != watched):
            continue
        if not take_over and (intent.claim_until is not None or intent.version != watched):
            continue
        try:
            claim_again(intent, take_over)
            log.save(intent)
        except (IntegrityError, IllegalTransition):
            continue
        saved[intent.request_id] = intent
    return saved, False


def order_of(intent: Intent, sealer: Sealer) -> JobOrder:
    provider, offering = split_target(intent.target)
    return JobOrder(intent.request_id, provider, offering, params_of(intent, sealer))


def params_of(intent: Intent, sealer: Sealer) -> dict[str, Any]:
    if intent.params_sealed is not None:
        return sealer.open(intent.params_sealed, intent.request_id)
    return dict(intent.params_plain or {})


def clean_detail(intent: Intent, text: str, sealer: Sealer) -> str:
    """Vendor messages may echo the params: never let a secret into the trail."""
    return redact_text(text, secret_values(params_of(intent, sealer)))[:DETAIL_MAX]
