"""A queue whose intents are recorded but not yet attempted, for the worker's unit tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from proofqueue import ProofQueue, Settings
from proofqueue.ports import Vendor
from proofqueue.process.manager import ProcessManager
from proofqueue.testing.fakes import Clock


@contextmanager
def held_queue(vendor: Vendor, request_ids: Sequence[str]) -> Iterator[ProofQueue]:
    """An in-memory queue on a fake clock with ``request_ids`` queued (the vendor held
    while they were submitted, so none was sent), worker name ``w-test``."""
    with ProofQueue(
        Settings(store=":memory:"), vendor=vendor, clock=Clock(), worker_name="w-test"
    ) as queue:
        queue.hold_vendor(reason="queue only", operator="test")
        for request_id in request_ids:  # held: queued, not sent
            queue.submit(request_id, actor="agent", target="0xP/logo", params={"n": 1})
        queue.release_vendor(operator="test")
        yield queue


def worker_manager(pq: ProofQueue) -> ProcessManager:
    """The process manager as a worker runs it (decisions gathered for its commits)."""
    assert pq.parts.manager is not None
    return pq.parts.manager.for_worker()
