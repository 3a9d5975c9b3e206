"""Submitting intents: validate, seal, record once per request_id, forever."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError

from proofqueue.bootstrap import Components
from proofqueue.domain.canonical import canonical
from proofqueue.domain.errors import (
    IdempotencyConflict,
    IntentNotFound,
    InvalidInput,
    SecretNeedsKey,
)
from proofqueue.domain.intent import Intent
from proofqueue.domain.receipt import Receipt, receipt_of
from proofqueue.domain.request import IntentRequest, parse_request
from proofqueue.domain.sanitize import sanitize

# The longest any call may wait for an intent to settle.
MAX_WAIT_S = 3600.0

ITEM_FIELDS = frozenset({"request_id", "actor", "target", "params"})


def prepare(
    parts: Components, request_id: object, actor: object, target: object, params: object
) -> tuple[IntentRequest, Intent]:
    """Validate a request and make its new intent (not saved yet)."""
    if isinstance(params, Mapping) and not isinstance(params, dict):
        params = dict(params)  # any mapping (the API's type); nested values are checked
    request = parse_request(request_id, actor, target, {} if params is None else params)
    public, redacted = sanitize(request.params)
    sealer = parts.sealer
    if redacted and not sealer.has_key:
        raise SecretNeedsKey(redacted)
    now = parts.clock()
    retry = parts.settings.retry
    intent = Intent.queue(
        request_id=request.request_id,
        actor=request.actor,
        target=request.target,
        params_public=public,
        params_sealed=sealer.seal(request.params, request.request_id) if sealer.has_key else None,
        params_plain=None if sealer.has_key else request.params,
        params_digest=sealer.digest(request.canonical_params),
        max_attempts=retry.max_attempts,
        deadline=now + timedelta(seconds=retry.budget_s),
        now=now,
    )
    return request, intent


def record_new(parts: Components, request: IntentRequest, intent: Intent) -> Intent:
    """Save a new intent; if its request_id exists, the existing one if it is the same
    request (idempotent), else IdempotencyConflict. Nothing is written twice."""
    try:
        parts.log.save(intent)  # the store's uniqueness is the idempotency check
    except IntegrityError:
        intent = parts.log.intent(request.request_id)
        if not same_request(parts, intent, request):
            raise IdempotencyConflict(request.request_id) from None
    return intent


def same_request(parts: Components, intent: Intent, request: IntentRequest) -> bool:
    """Compare by content: the stored params (opened if sealed) with the new ones, so a
    cipher key set or changed since the first submit does not make a false conflict."""
    if (intent.actor, intent.target) != (request.actor, request.target):
        return False
    if intent.params_sealed is not None:
        stored = parts.sealer.open(intent.params_sealed, intent.request_id)
    else:
        stored = intent.params_plain or {}
    return canonical(stored) == canonical(request.params)


def submit_many(parts: Components, items: Sequence[Mapping[str, object]]) -> list[Receipt]:
    """Record many intents in one transaction; idempotent per item; nothing written when
    any item is invalid (the error names the item)."""
    prepared: dict[str, tuple[IntentRequest, Intent]] = {}
    for n, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"items[{n}]", "must be an object")
        unknown = set(item) - ITEM_FIELDS
        if unknown:
            raise InvalidInput(f"items[{n}].{sorted(unknown)[0]}", "is not a field")
        try:
            request, intent = prepare(
                parts,
                item.get("request_id"),
                item.get("actor"),
                item.get("target"),
                item.get("params"),
            )
        except InvalidInput as exc:
            raise InvalidInput(f"items[{n}].{exc.field}", exc.problem) from None
        first = prepared.get(request.request_id)
        if first is not None and not same_request(parts, first[1], request):
            raise IdempotencyConflict(request.request_id)
        prepared.setdefault(request.request_id, (request, intent))
    try:
        parts.log.save(*(intent for _, intent in prepared.values()))
        recorded = [intent for _, intent in prepared.values()]
    except IntegrityError:
        # Some exist already. Check every one before writing anything, so a conflict leaves
        # nothing of the batch behind; then save the new ones in one commit (the failed save
        # used up the pending events: each is made afresh).
        for _ in range(5):
            recorded, fresh = _existing_or_fresh(parts, prepared)
            try:
                parts.log.save(*fresh)
                break
            except IntegrityError:
                continue  # another process recorded some of them meanwhile: look again
        else:
            raise IdempotencyConflict(next(iter(prepared))) from None
    by_id = {intent.request_id: receipt_of(intent) for intent in recorded}
    return [by_id[str(item["request_id"])] for item in items]


def _existing_or_fresh(
    parts: Components, prepared: dict[str, tuple[IntentRequest, Intent]]
) -> tuple[list[Intent], list[Intent]]:
    """Every intent of the batch (existing ones loaded, checked to be the same request) and
    the new ones to save; IdempotencyConflict before anything is written."""
    recorded, fresh = [], []
    for request, _ in prepared.values():
        try:
            existing = parts.log.intent(request.request_id)
        except IntentNotFound:
            made = prepare(parts, request.request_id, request.actor, request.target, request.params)
            recorded.append(made[1])
            fresh.append(made[1])
            continue
        if not same_request(parts, existing, request):
            raise IdempotencyConflict(request.request_id)
        recorded.append(existing)
    return recorded, fresh


def parse_wait(wait: Any, limit: float) -> float:
    if isinstance(wait, bool) or not isinstance(wait, int | float):
        raise InvalidInput("wait", "must be a number of seconds")
    if not 0 <= wait <= limit:
        raise InvalidInput("wait", f"must be between 0 and {limit:g} seconds")
    return float(wait)
