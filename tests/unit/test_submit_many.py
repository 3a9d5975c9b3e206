"""Recording many intents in one transaction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from proofqueue import (
    IdempotencyConflict,
    IntentNotFound,
    InvalidInput,
    JsonValue,
    NewIntent,
    ProofQueue,
    Settings,
)


@pytest.fixture
def pq() -> Iterator[ProofQueue]:
    with ProofQueue(Settings(store=":memory:")) as queue:
        yield queue


def item(
    n: int, *, target: str = "0xabc/logo", params: Mapping[str, JsonValue] | None = None
) -> NewIntent:
    return {
        "request_id": f"order-{n}",
        "actor": "agent",
        "target": target,
        "params": {"n": n} if params is None else params,
    }


def test_many_intents_are_recorded_queued_in_one_commit(pq: ProofQueue) -> None:
    """Every item is recorded QUEUED; the receipts come back in the items' order."""
    before = pq.parts.log.recorder.max_notification_id() or 0
    receipts = pq.submit_many([item(n) for n in range(5)])
    assert [r.request_id for r in receipts] == [f"order-{n}" for n in range(5)]
    assert {r.status for r in receipts} == {"QUEUED"}
    assert (pq.parts.log.recorder.max_notification_id() or 0) - before == 5
    assert pq.verify().ok


def test_a_batch_repeating_known_requests_writes_only_the_new_ones(pq: ProofQueue) -> None:
    """Items already recorded are idempotent: the same receipts, no second event."""
    first = pq.submit_many([item(1), item(2)])
    again = pq.submit_many([item(1), item(2), item(3)])
    assert again[:2] == first
    assert pq.verify().events == 3


def test_an_invalid_item_refuses_the_whole_batch_naming_it(pq: ProofQueue) -> None:
    """Nothing is written when one item is bad; the error names the item and the field."""
    with pytest.raises(InvalidInput) as refused:
        pq.submit_many([item(1), item(2, target="no-slash")])
    assert refused.value.field == "items[1].target"
    with pytest.raises(InvalidInput) as secret:
        pq.submit_many([item(3, params={"password": "hunter2-hunter2"})])
    assert secret.value.field == "items[0].params"
    assert "PROOFQUEUE_CIPHER_KEY" in str(secret.value)
    assert pq.verify().events == 0


def test_one_request_id_with_two_different_bodies_is_a_conflict(pq: ProofQueue) -> None:
    """Within a batch too, a request_id names one intent; the same item twice is one intent."""
    with pytest.raises(IdempotencyConflict):
        pq.submit_many([item(1), item(1, params={"n": 99})])
    assert pq.verify().events == 0
    receipts = pq.submit_many([item(1), item(1)])
    assert receipts[0] == receipts[1]
    assert pq.verify().events == 1


def test_a_conflict_anywhere_in_a_batch_writes_none_of_it() -> None:
    """One item reuses a request_id with other params: IdempotencyConflict, and none of
    the batch's new intents is stored (they would otherwise be bought)."""
    with ProofQueue(Settings(store=":memory:")) as pq:
        pq.submit("taken", actor="a", target="0xP/logo", params={"n": 1})
        before = pq.parts.log.recorder.max_notification_id() or 0
        batch: list[NewIntent] = [
            {"request_id": "new-1", "actor": "a", "target": "0xP/logo", "params": {}},
            {"request_id": "taken", "actor": "a", "target": "0xP/logo", "params": {"n": 2}},
            {"request_id": "new-2", "actor": "a", "target": "0xP/logo", "params": {}},
        ]
        with pytest.raises(IdempotencyConflict):
            pq.submit_many(batch)
        assert (pq.parts.log.recorder.max_notification_id() or 0) == before
        with pytest.raises(IntentNotFound):
            pq.receipt("new-1")
