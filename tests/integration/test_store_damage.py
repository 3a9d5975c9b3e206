"""A damaged stored event is named and isolated; it never stops the rest of the queue, and
no command answers with a traceback. The damage is made by hand in the real SQLite file
and the real PostgreSQL table, the way a bad disk or an intruder would."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from proofqueue import ProofQueue, Settings, Status
from proofqueue.projections import shared
from proofqueue.testing import FakeVendor
from tests.integration.helpers import Clock, Ran, RawStore, make_trail, open_queue, run_cli


def one_line(ran: Ran, code: int, *named: str) -> str:
    """Exit ``code``, no traceback, exactly one stderr line naming each of ``named``."""
    assert ran.code == code, str(ran)
    assert "Traceback" not in ran.output, str(ran)
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, str(ran)
    for name in named:
        assert name in lines[0], f"{name!r} not in {lines[0]!r}"
    return lines[0]


def seed(store: str) -> None:
    with open_queue(store, clock=Clock()) as pq:
        make_trail(pq, "order-a", retries=2)
        make_trail(pq, "order-b", retries=1)
        make_trail(pq, "order-c")


def undecodable(raw: RawStore, request_id: str = "order-a", version: int = 2) -> None:
    """One flipped byte in a key of the stored JSON: the event decodes to nothing usable."""
    raw.replace_in_state(request_id, version, '"timestamp"', '"timdstamp"')


def bad_json(raw: RawStore, request_id: str = "order-a", version: int = 2) -> None:
    raw.replace_in_state(request_id, version, '{"timestamp"', '{"timestamp')


@pytest.mark.parametrize("damage", [undecodable, bad_json], ids=["key", "json"])
def test_every_command_names_an_undecodable_event_in_one_line(
    store: str, damage: Callable[[RawStore], None]
) -> None:
    seed(store)
    damage(RawStore(store))

    verify = run_cli(store, "verify", "--all")
    assert verify.code == 1, str(verify)
    assert "Traceback" not in verify.output, str(verify)
    assert re.search(r"BROKEN order-a: event 2\b", verify.stdout), str(verify)
    assert "checked 3 intents" in verify.stdout, str(verify)

    one_line(run_cli(store, "show", "order-a"), 1, "trail of 'order-a' is damaged at event 2")
    one_line(run_cli(store, "receipt", "order-a"), 1, "trail of 'order-a' is damaged at event 2")
    assert run_cli(store, "show", "order-b").code == 0

    listed = run_cli(store, "list", "--json")
    one_line(listed, 1, "order-a", "event 2")
    rows = {row["request_id"]: row for row in listed.json()}
    assert set(rows) == {"order-a", "order-b", "order-c"}
    assert rows["order-a"]["waiting_for"].startswith("trail damaged at event 2")
    assert not (rows["order-b"]["waiting_for"] or "").startswith("trail damaged")

    health = run_cli(store, "health", "--json")
    one_line(health, 1, "order-a", "event 2")
    assert health.json()["damaged"][0]["event"] == 2

    replayed = run_cli(store, "replay", "--check")
    assert replayed.code == 0, str(replayed)
    assert "Traceback" not in replayed.output


def test_verify_names_a_damaged_topic_and_an_event_filed_under_an_unknown_id(store: str) -> None:
    seed(store)
    raw = RawStore(store)
    raw.execute(
        "UPDATE {events} SET topic = ? WHERE originator_id = ? AND originator_version = 2",
        ("proofqueue.domain.intent:Intent.Nothing", raw.originator("order-b")),
    )
    raw.move_event("order-a", 2, "order-zzz", 2)  # an id no intent has

    ran = run_cli(store, "verify", "--all")

    assert ran.code == 1, str(ran)
    assert "Traceback" not in ran.output, str(ran)
    assert re.search(r"BROKEN order-b: event 2\b", ran.stdout), str(ran)
    assert re.search(r"BROKEN order-a: event 2\b", ran.stdout), str(ran)
    assert run_cli(store, "verify", "order-b").code == 1


@contextmanager
def worker_queue(store: str, vendor: FakeVendor) -> Iterator[ProofQueue]:
    settings = Settings(store=store, idle_s=0.02, poll_s=0.05, poll_cap_s=0.1)
    pq = ProofQueue(settings, vendor=vendor)
    try:
        yield pq
    finally:
        pq.close()


def settle_all(pq: ProofQueue, vendor: FakeVendor, wanted: set[str], timeout: float = 20) -> None:
    """Run a worker until every intent of ``wanted`` is SETTLED (the vendor completes each
    job as soon as it exists)."""
    until = time.monotonic() + timeout
    with pq.worker(concurrency=4):
        while time.monotonic() < until:
            for job in list(vendor.jobs.values()):
                if job.phase != "COMPLETED":
                    vendor.set_phase(job.job_id, "COMPLETED", f"d-{job.job_id}")
            if all(pq.receipt(rid).status == "SETTLED" for rid in wanted):
                return
            time.sleep(0.05)
    states = {rid: pq.receipt(rid).status for rid in wanted}
    raise AssertionError(f"not all settled: {states}")


@pytest.mark.parametrize("damage", [undecodable, bad_json], ids=["key", "json"])
def test_the_worker_isolates_a_damaged_intent_and_settles_the_others(
    store: str, damage: Callable[[RawStore, str, int], None], caplog: pytest.LogCaptureFixture
) -> None:
    vendor = FakeVendor()
    with worker_queue(store, vendor) as pq:
        for rid in ("w-1", "w-2", "w-3", "w-4"):
            pq.record(rid, actor="agent", target="0xP/logo", params={"n": rid})
        damage(RawStore(store), "w-2", 1)
        pq.record("w-5", actor="agent", target="0xP/logo", params={"n": 5})
        damage(RawStore(store), "w-5", 1)
    with worker_queue(store, vendor) as pq:
        settle_all(pq, vendor, {"w-1", "w-3", "w-4"})
    assert not vendor.jobs_for("w-2")
    assert not vendor.jobs_for("w-5")


def test_the_worker_isolates_an_intent_whose_event_was_edited(store: str) -> None:
    """An event that decodes but whose hash does not match is found when the worker loads
    the intent: it is left alone, the others settle, and the list says why it waits."""
    vendor = FakeVendor()
    with worker_queue(store, vendor) as pq:
        for rid in ("e-1", "e-2", "e-3"):
            pq.record(rid, actor="agent", target="0xP/logo", params={"n": rid})
        RawStore(store).replace_in_state("e-2", 1, '"agent"', '"agenu"')
    with worker_queue(store, vendor) as pq:
        settle_all(pq, vendor, {"e-1", "e-3"})
        one = pq.list(status=["QUEUED"])
    assert not vendor.jobs_for("e-2")
    assert [row.request_id for row in one] == ["e-2"]
    assert str(one[0].waiting_for).startswith(
        "trail damaged at event 1: hash does not match its content and predecessor"
    ), one[0].waiting_for


def test_a_damaged_breaker_event_does_not_stop_submit_or_the_worker(store: str) -> None:
    vendor = FakeVendor()
    with worker_queue(store, vendor) as pq:
        pq.hold_vendor(reason="maintenance", operator="ops")
        pq.release_vendor(operator="ops")
    raw = RawStore(store)
    rows = raw.execute(
        "SELECT originator_id FROM {events} WHERE topic LIKE ? AND originator_version = 2",
        ("%BreakerLog.Held",),
    )
    raw.execute(
        "UPDATE {events} SET state = ? WHERE originator_id = ? AND originator_version = 2",
        (b'{"timestamp', rows[0][0]),
    )
    ran = run_cli(store, "submit", "--request-id", "b-1", "--actor", "a", "--target", "0xP/logo")
    assert ran.code == 0, str(ran)
    assert "Traceback" not in ran.output
    health = run_cli(store, "health", "--json")
    one_line(health, 1, "breaker", "event 2")
    assert health.json()["breaker_damaged"]
    with worker_queue(store, vendor) as pq:
        pq.record("b-2", actor="a", target="0xP/logo", params={})
        settle_all(pq, vendor, {"b-1", "b-2"})


def test_a_drained_queue_leaves_no_read_schedules_behind(store: str) -> None:
    """Each followed job's next read is noted for ``waiting_for``; once settled, its row in
    ``pq_work`` goes with the next heartbeat, and a row nobody updates any more goes with the
    periodic prune (the table does not grow with the log)."""
    vendor = FakeVendor()
    wanted = {f"drain-{n}" for n in range(6)}

    def rows() -> int:
        return len(pq.parts.db.query("SELECT intent_id FROM pq_work"))

    def wait(condition: Callable[[], bool]) -> None:
        until = time.monotonic() + 20
        while not condition() and time.monotonic() < until:
            time.sleep(0.1)

    with worker_queue(store, vendor) as pq:
        for rid in sorted(wanted):
            pq.record(rid, actor="agent", target="0xP/logo", params={})
        with pq.worker(concurrency=2):
            wait(lambda: rows() == len(wanted))  # every job bought, none done
            assert rows() == len(wanted)
            for job in list(vendor.jobs.values()):
                vendor.set_phase(job.job_id, "COMPLETED", f"d-{job.job_id}")
            wait(lambda: rows() == 0)
            assert {pq.receipt(rid).status for rid in wanted} == {Status.SETTLED}
            assert rows() == 0
        with pq.parts.db.transaction() as cur:  # a row left by a worker that went away
            cur.run(
                "INSERT INTO pq_work (intent_id, next_read_at) VALUES (?, ?)",
                ("gone", time.time() - shared.STALE_S - 1),
            )
            shared.prune_work(cur)
        assert rows() == 0
