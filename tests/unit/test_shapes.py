"""The reads' typed answers dump to exactly the JSON that design.md documents: the same
names in the same order, times as ISO 8601 text, statuses as their names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest

from proofqueue import BreakerPolicy, IntentRow, ProofQueue, Settings, Status, Transient
from proofqueue.testing import Clock, FakeVendor

ROW = ["request_id", "status", "actor", "target", "attempts", "last_error", "next_attempt_at"]
ROW += ["queued_at", "age_s", "waiting_for"]
HEALTH = ["vendor", "held", "state", "since", "open_until", "probe_until", "failure_ratio"]
HEALTH += ["calls_in_window", "window_s", "backlog", "oldest_queued_age_s", "transitions"]
HEALTH += ["damaged", "breaker_damaged"]
WORKER = ["worker", "host", "pid", "started_at", "last_seen_at", "alive", "in_flight"]
TRANSITION = ["at", "from", "to", "reason", "failure_ratio", "calls", "open_until"]


@pytest.fixture
def pq() -> Iterator[ProofQueue]:
    vendor, clock = FakeVendor(), Clock()
    vendor.script(*[Transient("http", "unavailable", status=503)] * 2)
    settings = Settings(store=":memory:", breaker=BreakerPolicy(min_calls=2))
    with ProofQueue(settings, vendor=vendor, clock=clock, rand=lambda: 0.5) as queue:
        for n in range(3):
            queue.submit(f"r-{n}", actor="agent", target="0xP/logo", params={"n": n})
        queue.hold_vendor(reason="maintenance", operator="op")
        yield queue


def test_a_list_row_dumps_to_the_documented_fields_in_order(pq: ProofQueue) -> None:
    """``list --json`` rows: the design's fields in its order, then ``waiting_for``."""
    rows = [row.model_dump(mode="json") for row in pq.list()]
    assert [list(row) for row in rows] == [ROW] * 3
    assert [row["status"] for row in rows] == ["QUEUED", "RETRYING", "RETRYING"]
    first = rows[1]
    assert first["queued_at"] == "2026-01-01T00:00:00+00:00"
    assert first["waiting_for"] == "vendor held by op: maintenance"
    typed = pq.list()[1]
    assert typed.status is Status.RETRYING
    assert isinstance(typed.queued_at, datetime)
    assert IntentRow.model_validate(first) == typed  # the JSON form reads back the same


def test_health_dumps_to_the_documented_fields_with_from_and_to(pq: ProofQueue) -> None:
    """``health --json``: the design's fields, transitions under ``from``/``to``."""
    health = pq.health()
    view = health.model_dump(mode="json")
    assert list(view) == HEALTH
    assert view["state"] == "DEGRADED"
    assert view["held"] == {"by": "op", "reason": "maintenance", "since": view["held"]["since"]}
    (move,) = view["transitions"]
    assert list(move) == TRANSITION
    assert (move["from"], move["to"]) == ("OK", "DEGRADED")
    assert health.transitions[0].from_ == "OK"
    assert json.loads(health.model_dump_json()) == view


def test_a_trail_dumps_to_request_id_status_waiting_for_and_events(pq: ProofQueue) -> None:
    """``show --json``: each event's seq, type, time, sanitized fields and hash."""
    trail = pq.show("r-0").model_dump(mode="json")
    assert list(trail) == ["request_id", "status", "waiting_for", "events"]
    assert [list(event) for event in trail["events"]] == [
        ["seq", "type", "at", "fields", "hash"]
    ] * 3
    assert trail["events"][0]["fields"]["params_public"] == {"n": 0}
    assert trail["events"][0]["at"].endswith("+00:00")


def test_workers_dump_to_the_documented_fields(pq: ProofQueue) -> None:
    """``workers --json``: worker, host, pid, started_at, last_seen_at, alive, in_flight."""
    with pq.worker():
        pass
    (row,) = [w.model_dump(mode="json") for w in pq.workers()]
    assert list(row) == WORKER
    assert row["alive"] is False  # it stopped


def test_replay_as_of_leaves_out_what_a_past_view_cannot_know(pq: ProofQueue) -> None:
    """``replay --as-of``: rows without ``waiting_for``, health without the damage fields."""
    report = pq.replay(as_of=pq.parts.clock())
    document = report.as_of_json()
    assert list(document) == ["as_of", "intents", "health"]
    intents, health = document["intents"], document["health"]
    assert isinstance(intents, list)
    assert isinstance(health, dict)
    assert [list(row) for row in intents if isinstance(row, dict)] == [ROW[:-1]] * 3
    assert list(health) == HEALTH[:-2]
