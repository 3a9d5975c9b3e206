"""``submit --wait`` and ``receipt --wait`` say how the wait ended: 0 settled, 4 FAILED, 5
not terminal within the wait (design.md, "Exit codes (extended)")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from proofqueue.entrypoints.cli import main
from proofqueue.testing.simulator import SimConfig, running_simulator
from tests.integration.helpers import run_cli

ORDER = ["--actor", "agent-7", "--target", "0xabc/logo", "--json"]


def run(env: dict[str, str], *args: str) -> int:
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code


def test_a_submit_that_fails_while_waited_for_exits_4(tmp_path: Path) -> None:
    """A vendor refusing the api key (401) fails the intent: exit 4, for submit --wait and
    for receipt --wait; a plain receipt still exits 0."""
    with running_simulator(SimConfig(port=0, api_key="right")) as url:
        env = {
            "PROOFQUEUE_STORE": str(tmp_path / "pq.db"),
            "PROOFQUEUE_VENDOR_URL": url,
            "PROOFQUEUE_VENDOR_API_KEY": "wrong",
        }
        assert run(env, "submit", "--request-id", "f-1", *ORDER, "--wait", "5") == 4
        assert run(env, "receipt", "f-1", "--wait", "1") == 4
        assert run(env, "receipt", "f-1") == 0


def test_a_submit_that_settles_exits_0_and_one_still_open_exits_5(tmp_path: Path) -> None:
    """Settled within the wait: 0. Queued with no vendor to buy it: 5 after the wait."""
    with running_simulator(SimConfig(port=0, complete_after=0.2)) as url:
        env = {"PROOFQUEUE_STORE": str(tmp_path / "pq.db"), "PROOFQUEUE_VENDOR_URL": url}
        assert run(env, "submit", "--request-id", "s-1", *ORDER, "--wait", "10") == 0
    env = {"PROOFQUEUE_STORE": str(tmp_path / "pq.db")}
    assert run(env, "submit", "--request-id", "q-1", *ORDER, "--wait", "0.3") == 5
    assert run(env, "receipt", "q-1", "--wait", "0.3") == 5


def test_a_damaged_page_of_the_store_file_is_one_line_and_views_rebuild_names_it(
    tmp_path: Path,
) -> None:
    """The first page of the intents view made unreadable in the SQLite file: reading the
    list answers one line that says the store answered an error and what checks and
    rebuilds it, exit 1, never a traceback, and no event is called damaged for it.
    ``views rebuild`` cannot free that page: it says so in one line (exit 1), and the log
    itself still verifies."""
    store = tmp_path / "s.db"
    submitted = run_cli(
        str(store), "submit", "--request-id", "r1", "--actor", "a", "--target", "0xP/x"
    )
    assert submitted.code == 0, str(submitted)
    with sqlite3.connect(store) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'pq_intents'"
        ).fetchone()
    data = bytearray(store.read_bytes())
    data[(root - 1) * page_size] = 0x00  # not a b-tree page type any more
    store.write_bytes(data)
    ran = run_cli(str(store), "list")
    assert ran.code == 1, str(ran)
    assert ran.stderr.startswith("proofqueue: the store answered an error: "), str(ran)
    assert "views rebuild" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1, str(ran)
    assert "Traceback" not in ran.output
    rebuilt = run_cli(str(store), "views", "rebuild")
    assert rebuilt.code == 1, str(rebuilt)
    assert rebuilt.stderr.startswith("proofqueue: the view table pq_intents cannot be dropped")
    assert ".recover" in rebuilt.stderr
    assert len(rebuilt.stderr.strip().splitlines()) == 1, str(rebuilt)
    verified = run_cli(str(store), "verify", "--all")
    assert verified.code == 0, str(verified)


def test_views_rebuild_makes_anew_view_tables_whose_schema_is_damaged(tmp_path: Path) -> None:
    """A column name of the intents view flipped in the file's schema: reading the list
    says the store answered an error; ``views rebuild`` drops the views' tables, makes them
    anew from the log, and the list is back."""
    store = tmp_path / "s.db"
    for n in (1, 2):
        done = run_cli(
            str(store), "submit", "--request-id", f"r{n}", "--actor", "a", "--target", "0xP/x"
        )
        assert done.code == 0, str(done)
    assert run_cli(str(store), "list").code == 0
    data = bytearray(store.read_bytes())
    at = data.find(b"attempts INTEGER")
    assert at > 0
    data[at + 2] ^= 0x01  # "attempts" -> "atuempts": the views' statements name a missing column
    store.write_bytes(data)
    broken = run_cli(str(store), "list")
    assert broken.code == 1, str(broken)
    assert broken.stderr.startswith("proofqueue: the store answered an error: "), str(broken)
    rebuilt = run_cli(str(store), "views", "rebuild")
    assert rebuilt.code == 0, str(rebuilt)
    assert "REPAIRED pq_intents request_id=r1: atuempts is 0 in the live view" in rebuilt.stdout
    listed = run_cli(str(store), "list", "--json")
    assert listed.code == 0, str(listed)
    assert sorted(row["request_id"] for row in listed.json()) == ["r1", "r2"]
    assert run_cli(str(store), "verify", "--all").code == 0
