"""The public API as a type checker sees it. Never run: mypy checks it with the rest of the
tests (``make test``, ``make typecheck``), strict and with ``warn_unused_ignores``.

``correct`` uses the API as documented and pins its answers' types with ``assert_type``.
``wrong`` calls it wrongly, one wrong argument a line, each line carrying the ignore of the
error it must raise: if a parameter loosens (an ``Any`` creeps back), its ignore is unused
and mypy fails. ``tests/unit/test_public_api.py`` checks the same at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import assert_type

from proofqueue import (
    Accepted,
    AsyncVendor,
    BreakerState,
    BulkReport,
    CreateOutcome,
    DamagedEvent,
    Found,
    Health,
    Held,
    IntentRow,
    Job,
    JobOrder,
    JobOutcome,
    JsonValue,
    LookupOutcome,
    NewIntent,
    ProofQueue,
    Receipt,
    Settings,
    Status,
    Trail,
    TrailEvent,
    Transition,
    Vendor,
    VerifyReport,
    WorkerRow,
)


class SyncShop:
    """A vendor with blocking calls."""

    name = "sync-shop"

    def create_job(self, order: JobOrder) -> CreateOutcome:
        return Accepted(f"job-{order.request_id}")

    def get_job(self, job_id: str) -> JobOutcome:
        return Job(job_id, "COMPLETED", deliverable_id="d-1")

    def find_jobs(self, request_id: str) -> LookupOutcome:
        return Found(())


class AsyncShop:
    """A vendor with coroutines."""

    name = "async-shop"

    async def create_job(self, order: JobOrder) -> CreateOutcome:
        return Accepted(f"job-{order.request_id}")

    async def get_job(self, job_id: str) -> JobOutcome:
        return Job(job_id, "COMPLETED", deliverable_id="d-1")

    async def find_jobs(self, request_id: str) -> LookupOutcome:
        return Found(())


class NotAShop:
    name = "nothing"


def build() -> None:
    sync_port: Vendor = SyncShop()
    async_port: AsyncVendor = AsyncShop()
    ProofQueue(Settings(store=":memory:"), vendor=sync_port).close()
    ProofQueue(Settings(store=":memory:"), vendor=async_port).close()
    ProofQueue(vendor=NotAShop())  # type: ignore[arg-type]
    ProofQueue.from_env(store=":memory:").close()


def correct(pq: ProofQueue, extra: Mapping[str, str]) -> None:
    params: dict[str, JsonValue] = {"size": 3, "tags": ["flat", "blue"], "deep": {"a": None}}
    receipt = pq.submit("order-1", actor="agent-7", target="0xP/logo", params=params, wait=2.0)
    assert_type(receipt, Receipt)
    assert_type(pq.submit("order-2", actor="a", target="0xP/logo", params=extra), Receipt)
    assert_type(pq.submit("order-3", actor="a", target="0xP/logo"), Receipt)
    assert_type(
        pq.record("order-4", actor="a", target="0xP/logo", params={"n": 1}), tuple[Receipt, bool]
    )
    item: NewIntent = {"request_id": "order-5", "actor": "a", "target": "0xP/logo"}
    assert_type(pq.submit_many([item]), list[Receipt])
    assert_type(pq.receipt("order-1"), Receipt)
    assert_type(pq.wait("order-1", 1.5), Receipt)

    rows = pq.list(status=[Status.QUEUED, "RETRYING"], actor="a", limit=10)
    assert_type(rows, list[IntentRow])
    assert_type(rows[0].status, Status)
    assert_type(rows[0].waiting_for, str | None)
    health = pq.health()
    assert_type(health, Health)
    assert_type(health.state, BreakerState)
    assert_type(health.held, Held | None)
    assert_type(health.transitions[0], Transition)
    assert_type(health.damaged[0], DamagedEvent)
    trail = pq.show("order-1")
    assert_type(trail, Trail)
    assert_type(trail.events[0], TrailEvent)
    assert_type(trail.events[0].fields["x"], JsonValue)
    assert_type(pq.workers(), list[WorkerRow])
    assert_type(pq.counts(), dict[str, int])
    assert_type(pq.verify(["order-1"]), VerifyReport)
    assert_type(pq.retry_all(status=[Status.FAILED], dry_run=True), BulkReport)


async def correct_async(pq: ProofQueue) -> None:
    assert_type(await pq.asubmit("order-1", actor="a", target="0xP/logo"), Receipt)


def wrong(pq: ProofQueue) -> None:
    pq.submit(42, actor="a", target="0xP/logo")  # type: ignore[arg-type]
    pq.submit("r", actor=None, target="0xP/logo")  # type: ignore[arg-type]
    pq.submit("r", actor="a", target=["no"])  # type: ignore[arg-type]
    pq.submit("r", actor="a", target="0xP/logo", params=["not", "an", "object"])  # type: ignore[arg-type]
    pq.submit("r", actor="a", target="0xP/logo", params={"x": object()})  # type: ignore[dict-item]
    pq.submit("r", actor="a", target="0xP/logo", params={1: "key not text"})  # type: ignore[dict-item]
    pq.submit("r", actor="a", target="0xP/logo", wait="soon")  # type: ignore[arg-type]
    pq.record(42, actor="a", target="0xP/logo")  # type: ignore[arg-type]
    pq.record("r", actor=7, target="0xP/logo")  # type: ignore[arg-type]
    pq.record("r", actor="a", target=None)  # type: ignore[arg-type]
    pq.record("r", actor="a", target="0xP/logo", params={"x": {1, 2}})  # type: ignore[dict-item]
    pq.submit_many([{"request_id": 1, "actor": "a", "target": "0xP/logo"}])  # type: ignore[typeddict-item]
    pq.submit_many([{"actor": "a", "target": "0xP/logo"}])  # type: ignore[typeddict-item]
    pq.receipt(42)  # type: ignore[arg-type]
    pq.show(None)  # type: ignore[arg-type]
    pq.list(limit="10")  # type: ignore[arg-type]
    pq.list(actor=7)  # type: ignore[arg-type]
    pq.cancel("r", reason=None)  # type: ignore[arg-type]
    pq.health()["state"]  # type: ignore[index]
    pq.show("r")["events"]  # type: ignore[index]
    pq.list()[0]["request_id"]  # type: ignore[index]


async def wrong_async(pq: ProofQueue) -> None:
    await pq.asubmit(42, actor="a", target="0xP/logo")  # type: ignore[arg-type]
    await pq.asubmit("r", actor=None, target="0xP/logo")  # type: ignore[arg-type]
    await pq.asubmit("r", actor="a", target=["no"])  # type: ignore[arg-type]
    await pq.asubmit("r", actor="a", target="0xP/logo", params={"x": object()})  # type: ignore[dict-item]
