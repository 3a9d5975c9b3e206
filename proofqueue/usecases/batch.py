"""Recording a group of independent submits in one commit (the async facade's group commit).

Unlike ``submit.submit_many`` (all or nothing: one bad item refuses the whole call), each
item here stands alone: an invalid item, or an idempotency conflict, fails that item only,
and the others are recorded. The happy path is one transaction for the whole group. When
the store refuses it (some request_id exists already, maybe written by another process
meanwhile), every item is recorded on its own, as ``submit`` records it: an existing
request_id answers its intent when the request is the same, ``IdempotencyConflict`` when not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError

from proofqueue.bootstrap import Components
from proofqueue.domain.errors import IdempotencyConflict
from proofqueue.domain.intent import Intent
from proofqueue.domain.receipt import Receipt, receipt_of
from proofqueue.domain.request import IntentRequest
from proofqueue.usecases.submit import prepare, record_new, same_request


@dataclass(frozen=True)
class Item:
    """One submit, as given by its caller (validated when the group is recorded)."""

    request_id: object
    actor: object
    target: object
    params: object


@dataclass(frozen=True)
class Recorded:
    """An item recorded: its receipt, whether this call created the intent, and (when it
    did, in a group commit) the log position of its ``Queued`` event."""

    receipt: Receipt
    new: bool
    position: int | None = None


Outcome = Recorded | Exception


Prepared = tuple[IntentRequest, Intent]


def prepare_item(parts: Components, item: Item) -> Prepared | Exception:
    """Validate, sanitize and seal one item into its new intent (not saved), or the error
    that refuses it. CPU only (no store access): the async facade runs it on its loop."""
    try:
        return prepare(parts, item.request_id, item.actor, item.target, item.params)
    except Exception as exc:  # this item is refused; the others go on
        return exc


def record_prepared(parts: Components, prepared: Sequence[Prepared | Exception]) -> list[Outcome]:
    """Save prepared items (``prepare_item``) in one commit when none exists already, else
    each on its own; answer, in order, each ``Recorded`` or error. An error other than the
    store's uniqueness (e.g. the store is gone) fails every item of the group."""
    outcomes: list[Outcome | None] = [None] * len(prepared)
    first: dict[str, tuple[int, IntentRequest, Intent]] = {}
    repeats: list[tuple[int, IntentRequest]] = []
    for n, made in enumerate(prepared):
        if isinstance(made, Exception):
            outcomes[n] = made
            continue
        request, intent = made
        if request.request_id in first:
            repeats.append((n, request))  # answered once the first one is recorded
        else:
            first[request.request_id] = (n, request, intent)
    alone: list[tuple[int, IntentRequest]] = []
    if first:
        try:
            recordings = parts.log.save(*(intent for _, _, intent in first.values()))
        except IntegrityError:  # some exist already: each on its own, as submit does
            if len(first) == 1:  # this one: no need to try it again
                ((n, request, _),) = first.values()
                outcomes[n] = _recorded_before(parts, request)
            else:
                alone = [(n, request) for n, request, _ in first.values()]
        except Exception as exc:  # the store failed: no item of the group is recorded
            for n in [n for n, _, _ in first.values()] + [n for n, _ in repeats]:
                outcomes[n] = exc
            repeats = []
        else:
            at = {r.domain_event.originator_id: r.notification.id for r in recordings}
            for n, _, intent in first.values():
                outcomes[n] = Recorded(receipt_of(intent), new=True, position=at.get(intent.id))
    for n, request in sorted([*alone, *repeats], key=lambda pair: pair[0]):
        outcomes[n] = _record_alone(parts, request)
    done: list[Outcome] = []
    for outcome in outcomes:
        if outcome is None:  # not reachable: every item was answered above
            raise RuntimeError("an item of the group was not answered")
        done.append(outcome)
    return done


def _recorded_before(parts: Components, request: IntentRequest) -> Outcome:
    """The intent its request_id names already, if the request is the same one."""
    try:
        intent = parts.log.intent(request.request_id)
        same = same_request(parts, intent, request)
    except Exception as exc:  # unreadable, or its sealed params cannot be opened
        return exc
    if not same:
        return IdempotencyConflict(request.request_id)
    return Recorded(receipt_of(intent), new=False)


def _record_alone(parts: Components, request: IntentRequest) -> Outcome:
    """One request recorded by itself (a failed group commit used up the pending events of
    its intents, so the intent is made afresh)."""
    try:
        _, intent = prepare(
            parts, request.request_id, request.actor, request.target, request.params
        )
        saved = record_new(parts, request, intent)
    except Exception as exc:
        return exc
    return Recorded(receipt_of(saved), new=saved is intent)
