"""The proof chain (``proofqueue.domain.proof``) over an intent's events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from proofqueue.domain.chained import event_fields, iso
from proofqueue.domain.intent import Intent
from proofqueue.domain.proof import GENESIS, ChainChecker, ChainLink, event_hash, first_break

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def queued(request_id: str = "order-1", now: datetime = T0) -> Intent:
    return Intent.queue(
        request_id=request_id,
        actor="agent-7",
        target="0xProvider/logo",
        params_public={"size": 3, "colors": ["red", "blue"]},
        params_sealed=None,
        params_plain={"size": 3, "colors": ["red", "blue"]},
        params_digest="sha256:" + "0" * 64,
        max_attempts=12,
        deadline=now + timedelta(hours=24),
        now=now,
    )


def settled_intent(request_id: str = "order-1") -> Intent:
    """Queued, a failed attempt, a retry, an accepted attempt, settled: six events."""
    intent = queued(request_id)
    lease = timedelta(seconds=30)
    intent.start_attempt(worker="w1", lease=lease, now=T0 + timedelta(seconds=1))
    intent.schedule_retry(
        error="http",
        status_code=500,
        detail="http 500: boom",
        ambiguous=True,
        next_attempt_at=T0 + timedelta(seconds=2),
        now=T0 + timedelta(seconds=1.5),
    )
    intent.start_attempt(worker="w1", lease=lease, now=T0 + timedelta(seconds=3))
    intent.submit(
        job_id="job-9", replayed=False, reconciled="lookup", now=T0 + timedelta(seconds=4)
    )
    intent.settle(deliverable_id="d-1", phase="COMPLETED", now=T0 + timedelta(seconds=9))
    return intent


def links_of(events: Any) -> list[ChainLink]:
    return [
        ChainLink(e.originator_version, type(e).__name__, iso(e.timestamp), event_fields(e), e.hash)
        for e in events
    ]


def chain(request_id: str = "order-1") -> tuple[str, list[ChainLink], str]:
    """(aggregate id, links, proof head) of a settled intent."""
    intent = settled_intent(request_id)
    head = intent.proof_head
    return str(intent.id), links_of(intent.collect_events()), head


def edited(link: ChainLink, **changes: Any) -> ChainLink:
    return dataclasses.replace(link, **changes)


def test_every_event_hashes_its_id_position_type_time_fields_and_predecessor() -> None:
    """hash_n == sha256(canonical(id, n, type, at, fields, hash_n-1)), hash_0 = GENESIS."""
    aggregate_id, links, _ = chain()
    prev = GENESIS
    for n, link in enumerate(links, start=1):
        assert link.seq == n
        assert link.hash == event_hash(aggregate_id, n, link.type_name, link.at, link.fields, prev)
        prev = link.hash
    assert [link.type_name for link in links] == [
        "Queued",
        "AttemptStarted",
        "RetryScheduled",
        "AttemptStarted",
        "Submitted",
        "Settled",
    ]


def test_the_proof_head_is_the_last_events_hash() -> None:
    """The aggregate's proof_head (what a receipt carries) is the hash of its last event."""
    _, links, head = chain()
    assert head == links[-1].hash
    assert len(head) == 64
    assert int(head, 16) >= 0


def test_an_intact_chain_verifies() -> None:
    """Recomputing an untouched chain finds no break."""
    aggregate_id, links, _ = chain()
    assert first_break(aggregate_id, links) is None


@pytest.mark.parametrize(
    ("index", "field", "value"),
    [
        (0, "params_public", {"size": 4, "colors": ["red", "blue"]}),
        (0, "actor", "agent-8"),
        (2, "detail", "http 500: something else"),
        (2, "ambiguous", False),
        (4, "job_id", "job-10"),
        (5, "deliverable_id", "d-2"),
    ],
)
def test_an_edited_field_breaks_the_chain_at_that_event(index: int, field: str, value: Any) -> None:
    """Changing any field of an event is found, and the event is named."""
    aggregate_id, links, _ = chain()
    links[index] = edited(links[index], fields={**links[index].fields, field: value})
    found = first_break(aggregate_id, links)
    assert found is not None
    assert found.seq == index + 1
    assert found.type_name == links[index].type_name
    assert "hash does not match" in found.problem


def test_an_edited_time_or_type_breaks_the_chain() -> None:
    """The event's time and type are covered by its hash too."""
    aggregate_id, links, _ = chain()
    moved = list(links)
    moved[3] = edited(moved[3], at=iso(T0 + timedelta(hours=1)))
    renamed = list(links)
    renamed[5] = edited(renamed[5], type_name="Failed")
    broken_time = first_break(aggregate_id, moved)
    broken_type = first_break(aggregate_id, renamed)
    assert broken_time is not None
    assert broken_time.seq == 4
    assert broken_type is not None
    assert broken_type.seq == 6


def test_an_edited_event_with_a_recomputed_hash_breaks_the_next_event() -> None:
    """Rehashing the edited event itself does not help: its successor no longer chains."""
    aggregate_id, links, _ = chain()
    target = links[2]
    fields = {**target.fields, "detail": "nothing happened"}
    rehashed = event_hash(aggregate_id, 3, target.type_name, target.at, fields, links[1].hash)
    links[2] = edited(target, fields=fields, hash=rehashed)
    found = first_break(aggregate_id, links)
    assert found is not None
    assert found.seq == 4


def test_a_deleted_event_breaks_the_chain_where_it_was() -> None:
    """Removing event 3 is reported at position 3: event 4 came instead."""
    aggregate_id, links, _ = chain()
    del links[2]
    found = first_break(aggregate_id, links)
    assert found is not None
    assert found.seq == 3
    assert found.problem == (
        "expected event 3 but found event 4 (an event is missing or out of order)"
    )


def test_a_deleted_first_event_is_found() -> None:
    """A chain that starts at event 2 is broken at event 1."""
    aggregate_id, links, _ = chain()
    found = first_break(aggregate_id, links[1:])
    assert found is not None
    assert found.seq == 1


def test_a_truncated_chain_is_caught_by_the_receipt_it_no_longer_matches() -> None:
    """Dropping the last events verifies alone, but no longer matches the receipt's head."""
    aggregate_id, links, head = chain()
    shorter = links[:4]
    assert first_break(aggregate_id, shorter) is None
    assert shorter[-1].hash != head


def test_two_swapped_events_break_the_chain() -> None:
    """Events 3 and 4 in each other's place: found at position 3."""
    aggregate_id, links, _ = chain()
    links[2], links[3] = links[3], links[2]
    found = first_break(aggregate_id, links)
    assert found is not None
    assert found.seq == 3


def test_two_swapped_events_renumbered_still_break_the_chain() -> None:
    """Swapping two events and their positions too does not fool the hashes."""
    aggregate_id, links, _ = chain()
    a, b = links[2], links[3]
    links[2], links[3] = edited(b, seq=3), edited(a, seq=4)
    found = first_break(aggregate_id, links)
    assert found is not None
    assert found.seq == 3
    assert "hash does not match" in found.problem


def test_an_event_moved_from_another_intent_breaks_the_chain() -> None:
    """Event 5 of another intent (same type, same position) does not chain here."""
    aggregate_id, links, _ = chain("order-1")
    _, other, _ = chain("order-2")
    links[4] = other[4]
    found = first_break(aggregate_id, links)
    assert found is not None
    assert found.seq == 5


def test_a_whole_chain_moved_to_another_intent_does_not_verify_there() -> None:
    """The aggregate id is in every hash: a chain checked under another id fails at 1."""
    _, links, _ = chain("order-1")
    other_id, _, _ = chain("order-2")
    found = first_break(other_id, links)
    assert found is not None
    assert found.seq == 1


def test_the_checker_follows_interleaved_aggregates() -> None:
    """Streaming two intents' events interleaved checks each chain on its own."""
    id_a, links_a, _ = chain("order-a")
    id_b, links_b, _ = chain("order-b")
    checker = ChainChecker()
    for link_a, link_b in zip(links_a, links_b, strict=True):
        assert checker.check(id_a, link_a) is None
        assert checker.check(id_b, link_b) is None
    tampered = ChainChecker()
    for link in links_a[:3]:
        assert tampered.check(id_a, link) is None
    assert tampered.check(id_b, links_b[0]) is None
    found = tampered.check(id_a, edited(links_a[3], fields={}))
    assert found is not None
    assert found.seq == 4


@pytest.mark.parametrize("part", ["id", "seq", "type", "at", "fields", "prev"])
def test_the_hash_changes_when_any_input_changes(part: str) -> None:
    """Each of the six inputs of event_hash matters."""
    base: dict[str, Any] = {
        "aggregate_id": "a",
        "seq": 1,
        "type_name": "Queued",
        "at": iso(T0),
        "fields": {"x": 1},
        "prev": GENESIS,
    }
    key = {"id": "aggregate_id", "type": "type_name"}.get(part, part)
    other = {
        "aggregate_id": "b",
        "seq": 2,
        "type_name": "Failed",
        "at": iso(T0 + timedelta(microseconds=1)),
        "fields": {"x": 1.0},
        "prev": "1" * 64,
    }[key]
    assert event_hash(**base) != event_hash(**{**base, key: other})
