"""A worker round's store commits: its intents loaded in one read, and what its finished
calls decided recorded in the same commit as its claims (with the fallback when that
commit is refused)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from proofqueue import ProofQueue, Status
from proofqueue.process.decisions import Fail
from proofqueue.process.manager import ProcessManager
from proofqueue.testing.fakes import FakeVendor
from tests.unit.held_queue import held_queue, worker_manager

IDS = ["a-1", "b-2", "c-3"]
LEASE = timedelta(seconds=30)


@pytest.fixture
def pq() -> Iterator[ProofQueue]:
    with held_queue(FakeVendor(), IDS) as queue:
        yield queue


def count_saves(m: ProcessManager) -> list[list[str]]:
    """The request ids of each ``save`` the manager makes (one commit each)."""
    saves: list[list[str]] = []
    save = m.log.save

    def counted(*aggregates: Any) -> object:
        saves.append([a.request_id for a in aggregates])
        return save(*aggregates)

    m.log.save = counted  # type: ignore[method-assign]
    return saves


def test_intents_load_as_single_loads_do_and_leave_out_the_unknown(pq: ProofQueue) -> None:
    log = pq.parts.log
    found = log.intents([*IDS, "nobody"])
    assert sorted(found) == IDS
    for request_id in IDS:
        alone = log.intent(request_id)
        assert (found[request_id].version, found[request_id].proof_head) == (
            alone.version,
            alone.proof_head,
        )
        assert found[request_id].status == Status.QUEUED


def test_the_decisions_of_a_round_share_the_claims_commit(pq: ProofQueue) -> None:
    m = worker_manager(pq)
    [first] = m.claim({"a-1": None})
    m.recorder.record(first.intent, Fail("rejected", "no such offering", 404))
    saves = count_saves(m)
    claimed = m.claim({"b-2": None, "c-3": None})
    assert saves == [["a-1", "b-2", "c-3"]]  # one commit
    assert sorted(c.intent.request_id for c in claimed) == ["b-2", "c-3"]
    assert pq.parts.log.intent("a-1").status == Status.FAILED
    assert m.flush_records() == 0  # nothing left to record


def test_a_refused_round_commit_records_and_claims_each_again(pq: ProofQueue) -> None:
    m = worker_manager(pq)
    [first] = m.claim({"a-1": None})
    m.recorder.record(first.intent, Fail("rejected", "no such offering", 404), first.claim)
    other = pq.parts.log.intent("a-1")  # another worker takes a-1's claim over meanwhile
    other.start_attempt(worker="w-other", lease=LEASE, now=pq.parts.clock(), take_over=True)
    pq.parts.log.save(other)
    saves = count_saves(m)
    claimed = m.claim({"b-2": None})
    # Refused (a-1's version is stale); then b-2 alone, and a-1's decision applied to the
    # reloaded intent: not recorded, as its claim is no longer this worker's.
    assert saves == [["a-1", "b-2"], ["b-2"]]
    assert [c.intent.request_id for c in claimed] == ["b-2"]
    a1 = pq.parts.log.intent("a-1")
    assert (a1.status, a1.claimed_by) == (Status.QUEUED, "w-other")
    assert pq.parts.log.intent("b-2").claimed_by == "w-test"
