"""The proof chain catches a stored event edited, deleted, reordered or moved, by hand, in the
real SQLite file (with sqlite3) and in the real PostgreSQL table (with SQL)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.integration.helpers import (
    Clock,
    RawStore,
    make_trail,
    open_queue,
    run_cli,
    run_cli_many,
)

# order-a: Queued, RetryScheduled (alice), RetryScheduled (carol), Failed (cancel by carol)
# order-b: Queued, RetryScheduled (bob)
# order-c: Queued
# (in this order in the log, so order-b's events come after all of order-a's)
TRAILS = {"order-a": 4, "order-b": 2, "order-c": 1}


def seed(store: str) -> dict[str, str]:
    """Three intents with 7 events; returns each intent's receipt proof (its head hash)."""
    with open_queue(store, clock=Clock()) as pq:
        make_trail(pq, "order-a", retries=1, operator="alice")
        pq.retry("order-a", operator="carol")
        pq.cancel("order-a", reason="duplicate order", operator="carol")
        make_trail(pq, "order-b", retries=1, operator="bob")
        make_trail(pq, "order-c")
        return {rid: pq.receipt(rid).proof for rid in TRAILS}


def edit_operator_name(raw: RawStore) -> None:
    raw.replace_in_state("order-a", 2, '"operator":"alice"', '"operator":"alicf"')


def delete_middle_event(raw: RawStore) -> None:
    raw.delete_event("order-a", 2)


def swap_two_events(raw: RawStore) -> None:
    raw.swap_events("order-a", 2, 3)


def move_to_another_intent(raw: RawStore) -> None:
    """order-b's last event re-filed, whole, as order-a's fifth."""
    raw.move_event("order-b", 2, "order-a", 5)


def broken(text: str) -> list[tuple[str, int]]:
    """(request_id, first bad event) of each BROKEN line of ``verify``'s text output."""
    return [(m[1], int(m[2])) for m in re.finditer(r"BROKEN (\S+): event (\d+)\b", text)]


@pytest.mark.parametrize(
    ("tamper", "intent", "first_bad"),
    [
        pytest.param(edit_operator_name, "order-a", 2, id="edited"),
        pytest.param(delete_middle_event, "order-a", 2, id="deleted"),
        pytest.param(swap_two_events, "order-a", 2, id="reordered"),
        pytest.param(move_to_another_intent, "order-a", 5, id="moved"),
    ],
)
def test_verify_all_exits_1_naming_the_intent_and_its_first_bad_event(
    store: str, tamper: Callable[[RawStore], None], intent: str, first_bad: int
) -> None:
    """A hand-made change to the stored log is found by `verify --all`."""
    seed(store)
    tamper(RawStore(store))

    ran = run_cli(store, "verify", "--all")

    assert ran.code == 1, str(ran)
    assert "Traceback" not in ran.output, str(ran)
    # A deleted event also leaves a hole in a SQLite log's ids, named apart as the log's.
    gaps = [found for found in broken(ran.stdout) if found[0] == "(log)"]
    # order-b's last event, moved away, is named too: the views had applied it there.
    gone = [("order-b", 2)] if tamper is move_to_another_intent else []
    named = [found for found in broken(ran.stdout) if found not in gaps]
    assert named == [(intent, first_bad), *gone], str(ran)
    assert len(gaps) == (tamper is delete_middle_event and not RawStore(store).postgres)
    assert "checked 3 intents" in ran.stdout
    assert f"{len(named) + len(gaps)} broken" in ran.stdout


@pytest.mark.parametrize(
    ("tamper", "intent", "first_bad"),
    [
        pytest.param(edit_operator_name, "order-a", 2, id="edited"),
        pytest.param(swap_two_events, "order-a", 2, id="reordered"),
        pytest.param(move_to_another_intent, "order-a", 5, id="moved"),
    ],
)
def test_verify_of_the_tampered_intent_exits_1_naming_its_first_bad_event(
    store: str, tamper: Callable[[RawStore], None], intent: str, first_bad: int
) -> None:
    """`verify ID` names the intent and its first bad event."""
    seed(store)
    tamper(RawStore(store))

    ran = run_cli(store, "verify", intent)

    assert ran.code == 1, str(ran)
    assert "Traceback" not in ran.output, str(ran)
    assert broken(ran.stdout) == [(intent, first_bad)], str(ran)


def test_an_event_moved_off_the_end_of_a_trail_is_caught_by_the_receipt_held_elsewhere(
    store: str,
) -> None:
    """A trail cut short verifies on its own, but its head no longer matches the receipt;
    and verify names the event the views had applied at its end."""
    held = seed(store)
    move_to_another_intent(RawStore(store))

    with open_queue(store) as pq:
        problems = pq.verify(["order-b"]).problems
        assert [(p.request_id, p.seq) for p in problems] == [("order-b", 2)]
        assert "it is not in the log now" in problems[0].problem
        assert pq.receipt("order-b").proof != held["order-b"]
        assert pq.receipt("order-c").proof == held["order-c"]


def test_an_untampered_store_verifies_and_says_how_many_intents_and_events_it_checked(
    store: str,
) -> None:
    """`verify --all` and `verify ID` exit 0 on an honest store, with the counts."""
    seed(store)
    commands = [
        ("verify", "--all"),
        ("verify", "order-a", "order-b"),
        ("verify", "--all", "--json"),
    ]

    every, one, as_json = run_cli_many(store, commands)

    assert every.code == 0, str(every)
    assert "checked 3 intents, 7 events: all chains verify" in every.stdout, str(every)
    assert one.code == 0, str(one)
    assert "checked 2 intents, 6 events" in one.stdout, str(one)
    assert as_json.code == 0, str(as_json)
    assert as_json.json() == {"intents": 3, "events": 7, "ok": True, "problems": []}
