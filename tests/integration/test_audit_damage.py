"""Damage made the way an outsider makes it with the ``sqlite3`` shell: its string functions
(``replace``) turn an event's BLOB state into TEXT, and a state can be blanked to NULL.
The intact events still read, the damaged one is named, and no command answers "unexpected
error" (found by the outside audit)."""

from __future__ import annotations

import re
import time

from click.testing import CliRunner, Result

from proofqueue import ProofQueue, Settings
from proofqueue.entrypoints.cli import main
from proofqueue.testing import FakeVendor
from tests.integration.helpers import Clock, RawStore, make_trail, open_queue


def cli(store: str, *args: str) -> Result:
    env = {"PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": None}
    return CliRunner().invoke(main, list(args), env=env)


def seed(store: str) -> RawStore:
    with open_queue(store, clock=Clock()) as pq:
        make_trail(pq, "order-a", retries=1)
        make_trail(pq, "order-b")
    return RawStore(store)


def no_crash(ran: Result) -> None:
    assert ran.exception is None or isinstance(ran.exception, SystemExit), ran.output
    assert "Traceback" not in ran.output
    assert "unexpected error" not in ran.stderr, ran.stderr


def test_a_state_stored_as_text_with_the_same_bytes_still_verifies(sqlite_store: str) -> None:
    raw = seed(sqlite_store)
    raw.execute(
        "UPDATE {events} SET state = CAST(state AS TEXT) WHERE originator_id = ?",
        (raw.originator("order-a"),),
    )
    assert raw.execute("SELECT DISTINCT typeof(state) FROM {events} WHERE originator_id = ?",
                       (raw.originator("order-a"),)) == [("text",)]  # fmt: skip

    verified = cli(sqlite_store, "verify", "--all")
    no_crash(verified)
    assert verified.exit_code == 0, verified.output
    shown = cli(sqlite_store, "show", "order-a", "--json")
    no_crash(shown)
    assert shown.exit_code == 0, shown.output
    listed = cli(sqlite_store, "list", "--json")
    assert listed.exit_code == 0, listed.output


def test_an_edit_by_sqlite_replace_is_named_as_a_broken_event(sqlite_store: str) -> None:
    raw = seed(sqlite_store)
    raw.execute(
        "UPDATE {events} SET state = replace(state, 'agent-7', 'agent-8')"
        " WHERE originator_id = ? AND originator_version = 1",
        (raw.originator("order-a"),),
    )

    verified = cli(sqlite_store, "verify", "--all")
    no_crash(verified)
    assert verified.exit_code == 1, verified.output
    assert re.search(r"BROKEN order-a: event 1\b", verified.stdout), verified.stdout
    shown = cli(sqlite_store, "show", "order-a")
    no_crash(shown)
    assert shown.exit_code == 1, shown.output
    assert "event 1" in shown.stderr, shown.output
    assert cli(sqlite_store, "show", "order-b").exit_code == 0


def test_a_blanked_state_is_named_and_the_rest_goes_on(sqlite_store: str) -> None:
    raw = seed(sqlite_store)
    raw.execute(
        "UPDATE {events} SET state = NULL WHERE originator_id = ? AND originator_version = 2",
        (raw.originator("order-a"),),
    )

    verified = cli(sqlite_store, "verify", "--all")
    no_crash(verified)
    assert verified.exit_code == 1, verified.output
    assert re.search(r"BROKEN order-a: event 2\b", verified.stdout), verified.stdout
    for args in (("show", "order-a"), ("receipt", "order-a"), ("list",), ("health",)):
        ran = cli(sqlite_store, *args)
        no_crash(ran)
        assert len(ran.stderr.strip().splitlines()) <= 1, ran.stderr
    assert cli(sqlite_store, "show", "order-b").exit_code == 0
    assert cli(sqlite_store, "replay", "--check").exit_code == 0


def test_the_worker_buys_the_others_past_a_state_stored_as_text(sqlite_store: str) -> None:
    vendor = FakeVendor()
    settings = Settings(store=sqlite_store, idle_s=0.02, poll_s=0.05, poll_cap_s=0.1)
    with ProofQueue(settings, vendor=vendor) as pq:
        for rid in ("t-1", "t-2", "t-3"):
            pq.record(rid, actor="agent", target="0xP/logo", params={"n": rid})
        raw = RawStore(sqlite_store)
        raw.execute(
            "UPDATE {events} SET state = replace(state, '\"agent\"', '\"agenu\"')"
            " WHERE originator_id = ?",
            (raw.originator("t-2"),),
        )
        until = time.monotonic() + 15
        with pq.worker(concurrency=4):
            while time.monotonic() < until and not (
                vendor.jobs_for("t-1") and vendor.jobs_for("t-3")
            ):
                time.sleep(0.05)
    assert vendor.jobs_for("t-1")
    assert vendor.jobs_for("t-3")
    assert not vendor.jobs_for("t-2")
