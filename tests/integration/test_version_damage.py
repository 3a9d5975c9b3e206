"""A damaged ``originator_version`` (the event's position in its intent's trail) is named
and isolated like any other damaged event: which intent, which position, what is wrong.
No command answers "unexpected error", and the worker buys every other intent.

The damage is made in the real store the way an outsider would: ``UPDATE stored_events SET
originator_version = ...`` in the SQLite file (whose column, of INTEGER affinity, keeps
TEXT, REAL, NULL and BLOB values as they are given), and in PostgreSQL's ``bigint``
column (which only takes whole numbers: the damage possible there is a number that is no
position, 0, negative, or past the views' 32-bit INTEGER columns).

Text that is an integer is the same event: SQLite itself stores the text ``'2'`` (and
``' 2'``, ``'02'``, ``'+2'``, ``'2e0'``) in an INTEGER column as the integer 2, so the row
is byte for byte the one it was, and eventsourcing reads it back as ``int``. Text SQLite
keeps as TEXT is not a number to it (``'abc'``, ``'0x2'``, the Arabic-Indic digit
``'٢'``), and it is damage even where Python's ``int()`` would read it (``int('٢') == 2``):
a version is whatever the store holds as an integer, never a string parsed on the way.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner, Result

from proofqueue import ProofQueue, Settings
from proofqueue.domain.intent import intent_id
from proofqueue.entrypoints.cli import main
from proofqueue.testing import FakeVendor
from tests.integration.helpers import Clock, RawStore, make_trail, open_queue, run_cli

# (SQL literal, what SQLite stores): each is kept as it is by the INTEGER column.
SQLITE_DAMAGE = {
    "text": ("'abc'", "text"),
    "digit-python-reads": ("'٢'", "text"),  # int('٢') == 2 in Python; text to SQLite
    "real": ("2.5", "real"),
    "huge-as-text": (f"'{2**70}'", "real"),  # too big for an integer: SQLite keeps a REAL
    "null": ("NULL", "null"),
    "blob": ("x'02'", "blob"),
    "negative": ("-1", "integer"),
    "zero": ("0", "integer"),
}


def cli(store: str, *args: str) -> Result:
    """``proofqueue ARGS`` in this process, as a user runs it (no vendor configured)."""
    env = {"PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": None, "COLUMNS": "400"}
    return CliRunner().invoke(main, list(args), env=env)


def no_crash(ran: Result) -> None:
    assert ran.exception is None or isinstance(ran.exception, SystemExit), ran.output
    assert "Traceback" not in ran.output, ran.output
    assert "unexpected error" not in ran.stderr, ran.stderr
    assert "the store answered an error" not in ran.stderr, ran.stderr
    assert len(ran.stderr.strip().splitlines()) <= 1, ran.stderr


def seed(store: str) -> RawStore:
    with open_queue(store, clock=Clock()) as pq:
        make_trail(pq, "order-a", retries=2)  # events 1, 2, 3
        make_trail(pq, "order-b", retries=1)
    return RawStore(store)


def set_version(raw: RawStore, request_id: str, version: int, literal: str) -> None:
    raw.execute(
        f"UPDATE {{events}} SET originator_version = {literal}"  # noqa: S608  (test literal)
        " WHERE originator_id = ? AND originator_version = ?",
        (raw.originator(request_id), version),
    )


def assert_named(store: str, event: int) -> None:
    """Every command names event ``event`` of order-a, in one line at most, and goes on
    with order-b. (Damage to event 1, its ``Queued``, leaves the views without its row and
    its request_id: they name the intent by its id, as for any damaged event 1.)"""
    views_name = "order-a" if event > 1 else str(intent_id("order-a"))
    verified = cli(store, "verify", "--all")
    no_crash(verified)
    assert verified.exit_code == 1, verified.output
    found = re.search(rf"BROKEN order-a: event {event}\b.*", verified.stdout)
    assert found, verified.stdout
    assert "version" in found.group(0), verified.stdout
    assert "order-b" not in verified.stdout, verified.stdout
    assert "checked 2 intents" in verified.stdout, verified.stdout
    one = cli(store, "verify", "order-a")
    no_crash(one)
    assert one.exit_code == 1, one.output
    assert re.search(rf"BROKEN order-a: event {event}\b", one.stdout), one.stdout
    assert cli(store, "verify", "order-b").exit_code == 0

    for command in ("show", "receipt"):
        ran = cli(store, command, "order-a")
        no_crash(ran)
        assert ran.exit_code == 1, ran.output
        assert f"trail of 'order-a' is damaged at event {event}" in ran.stderr, ran.stderr
    shown = cli(store, "show", "order-b", "--json")
    no_crash(shown)
    assert shown.exit_code == 0, shown.output

    listed = cli(store, "list", "--json")
    no_crash(listed)
    assert listed.exit_code == 1, listed.output
    assert f"{views_name!r} event {event}" in listed.stderr, listed.stderr
    rows = {row["request_id"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == ({"order-a", "order-b"} if event > 1 else {"order-b"})
    if event > 1:
        why = rows["order-a"]["waiting_for"]
        assert why.startswith(f"trail damaged at event {event}: "), why
        assert "version" in why, why
    assert not (rows["order-b"]["waiting_for"] or "").startswith("trail damaged")

    health = cli(store, "health", "--json")
    no_crash(health)
    assert health.exit_code == 1, health.output
    damaged = json.loads(health.stdout)["damaged"]
    assert [(d["intent"], d["event"]) for d in damaged] == [(views_name, event)], damaged

    for flags in ((), ("--check",)):
        ran = cli(store, "replay", *flags)
        no_crash(ran)
        assert ran.exit_code == 0, ran.output


@pytest.mark.parametrize("kind", list(SQLITE_DAMAGE))
def test_every_command_names_a_damaged_version_on_sqlite(sqlite_store: str, kind: str) -> None:
    literal, stored_as = SQLITE_DAMAGE[kind]
    raw = seed(sqlite_store)
    set_version(raw, "order-a", 2, literal)
    assert raw.execute(
        "SELECT typeof(originator_version) FROM {events} WHERE originator_id = ?"
        " AND (typeof(originator_version) != 'integer' OR originator_version < 1)",
        (raw.originator("order-a"),),
    ) == [(stored_as,)]

    assert_named(sqlite_store, 2)


@pytest.mark.parametrize(("version", "named"), [(1, 1), (3, 3)], ids=["first", "last"])
def test_a_damaged_first_or_last_version_is_named_at_its_position(
    sqlite_store: str, version: int, named: int
) -> None:
    raw = seed(sqlite_store)
    set_version(raw, "order-a", version, "'abc'")
    assert_named(sqlite_store, named)


def test_a_version_stored_as_the_text_of_its_number_is_the_same_event(sqlite_store: str) -> None:
    """SQLite's INTEGER affinity stores the text '2' as the integer 2: nothing changed."""
    raw = seed(sqlite_store)
    set_version(raw, "order-a", 2, "' 02'")
    assert (
        raw.execute(
            "SELECT typeof(originator_version) FROM {events} WHERE originator_id = ?"
            " ORDER BY originator_version",
            (raw.originator("order-a"),),
        )
        == [("integer",)] * 3
    )
    for args in (("verify", "--all"), ("show", "order-a"), ("list",), ("replay", "--check")):
        ran = cli(sqlite_store, *args)
        no_crash(ran)
        assert ran.exit_code == 0, ran.output


def test_a_version_past_the_views_integers_is_named_on_postgres(postgres_url: str) -> None:
    """PostgreSQL's bigint column takes no text or NULL; a number the views' INTEGER
    columns cannot hold (and that is no position) is named like any damage."""
    raw = seed(postgres_url)
    set_version(raw, "order-a", 2, str(2**31))
    assert_named(postgres_url, 2)
    ran = run_cli(postgres_url, "list")  # once as its own process, as a user runs it
    assert ran.code == 1, str(ran)
    assert "Traceback" not in ran.output, str(ran)
    assert "'order-a' event 2" in ran.stderr, str(ran)


def test_a_negative_version_is_named_on_postgres(postgres_url: str) -> None:
    """(0 is named the same way: SQLite's case ``zero``.)"""
    raw = seed(postgres_url)
    set_version(raw, "order-a", 2, "-1")
    assert_named(postgres_url, 2)


@contextmanager
def worker_queue(store: str, vendor: FakeVendor) -> Iterator[ProofQueue]:
    settings = Settings(store=store, idle_s=0.02, poll_s=0.05, poll_cap_s=0.1)
    pq = ProofQueue(settings, vendor=vendor)
    try:
        yield pq
    finally:
        pq.close()


def test_the_worker_buys_the_others_past_a_damaged_version(store: str) -> None:
    vendor = FakeVendor()
    wanted = {"v-1", "v-3", "v-4"}
    with worker_queue(store, vendor) as pq:
        for rid in ("v-1", "v-2", "v-3"):
            pq.record(rid, actor="agent", target="0xP/logo", params={"n": rid})
        raw = RawStore(store)
        # SQLite: text; PostgreSQL: the one kind of damage its bigint column takes.
        set_version(raw, "v-2", 1, str(2**31) if raw.postgres else "'abc'")
        pq.record("v-4", actor="agent", target="0xP/logo", params={"n": 4})
        until = time.monotonic() + 15
        with pq.worker(concurrency=4):
            while time.monotonic() < until and not all(vendor.jobs_for(rid) for rid in wanted):
                time.sleep(0.05)
        damaged = [(d.aggregate_id, d.event, d.reason) for d in pq.health().damaged]
    assert all(vendor.jobs_for(rid) for rid in wanted), vendor.jobs
    assert not vendor.jobs_for("v-2")
    assert [d[:2] for d in damaged] == [(str(intent_id("v-2")), 1)], damaged
    assert "version" in damaged[0][2], damaged
