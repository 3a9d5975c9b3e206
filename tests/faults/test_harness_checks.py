"""The fault harness's own checks can fail: a breaker timeline that does not fit the outage is
reported, and the fault figures add up the simulator's outcomes as named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.faults.harness import Move, breaker_problems, fault_counts, moves_of

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
END = START + timedelta(seconds=10)


def at(seconds: float, old: str, new: str) -> Move:
    return Move(START + timedelta(seconds=seconds), old, new, "test")


def test_a_trip_during_the_outage_and_ok_after_it_fits() -> None:
    """DEGRADED inside the outage, probes failing inside it, OK after it: no problem."""
    moves = [
        at(1, "OK", "DEGRADED"),
        at(3, "DEGRADED", "RECOVERING"),
        at(3.1, "RECOVERING", "DEGRADED"),
        at(11, "DEGRADED", "RECOVERING"),
        at(11.2, "RECOVERING", "OK"),
    ]
    assert breaker_problems(moves, START, END, "OK") == []


def test_no_trip_during_the_outage_is_reported() -> None:
    """A trip before the outage only does not count as tripping on it."""
    moves = [at(-5, "OK", "DEGRADED"), at(-2, "DEGRADED", "RECOVERING"), at(12, "RECOVERING", "OK")]
    assert breaker_problems(moves, START, END, "OK") == ["no trip to DEGRADED during the outage"]


def test_a_return_to_ok_inside_the_outage_is_reported() -> None:
    """Probes cannot pass while every call fails (after the grace for earlier calls)."""
    moves = [at(1, "OK", "DEGRADED"), at(6, "RECOVERING", "OK"), at(12, "RECOVERING", "OK")]
    problems = breaker_problems(moves, START, END, "OK")
    assert len(problems) == 1
    assert problems[0].startswith("back to OK during the outage")


def test_no_return_to_ok_after_the_outage_is_reported() -> None:
    """A breaker still DEGRADED at the end fits neither the recovery nor the final state."""
    moves = [at(1, "OK", "DEGRADED")]
    assert breaker_problems(moves, START, END, "DEGRADED") == [
        "no return to OK after the outage ended",
        "the breaker ended DEGRADED, not OK",
    ]


def test_moves_from_two_views_are_merged_once_in_time_order() -> None:
    """The same transition seen in two health views counts once."""
    later = {"at": (START + timedelta(seconds=2)).isoformat(), "from": "DEGRADED", "to": "OK"}
    first = {"at": START.isoformat(), "from": "OK", "to": "DEGRADED"}
    view_a = [{**first, "reason": "r1"}, {**later, "reason": "r2"}]
    view_b = [{**later, "reason": "r2"}]
    assert [(m.from_state, m.to_state) for m in moves_of(view_b, view_a)] == [
        ("OK", "DEGRADED"),
        ("DEGRADED", "OK"),
    ]


def test_fault_counts_group_the_simulators_outcomes() -> None:
    """500s before creating (creates, reads, lookups), after, timeouts, resets, 429s, outage."""
    requests = {
        "create_500_before": 1,
        "get_500": 2,
        "lookup_500": 4,
        "create_500_after": 8,
        "timeout": 16,
        "reset": 32,
        "reset_after": 64,
        "rate_limited": 128,
        "outage": 256,
        "create_303_after": 3,
        "create_bad_id_after": 5,
        "drip": 6,
        "oversized": 9,
        "get_no_deliverable": 10,
        "create_201": 1000,
    }
    assert fault_counts(requests) == {
        "500_before": 7,
        "500_after": 8,
        "timeout": 16,
        "reset": 96,
        "rate_limited": 128,
        "outage": 256,
        "303_after": 3,
        "bad_job_id": 5,
        "drip": 6,
        "oversized": 9,
        "no_deliverable": 10,
    }
