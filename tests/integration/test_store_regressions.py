"""Regression tests for bugs the store integration tests found, now fixed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.integration.helpers import (
    Ran,
    RawStore,
    cli_env,
    log_counts,
    open_queue,
    run_cli,
)
from tests.integration.test_store_secrets import (
    PARAMS,
    READS,
    SUBMIT,
    assert_nothing_leaked,
)
from tests.integration.test_store_tamper import broken, delete_middle_event, seed

# The real command in each process, started together: imports first, then the starting gun.
CLI_RACER = """
import os, sys, time
from proofqueue.entrypoints.cli import main
ready, go = sys.argv[1], sys.argv[2]
open(ready, "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.001)
main(sys.argv[3:], prog_name="proofqueue")
"""


def cli_race(store: str, tmp_path: Path, args: tuple[str, ...], processes: int = 8) -> list[Ran]:
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(processes)]
    with ExitStack() as stack:
        procs = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", CLI_RACER, str(flag), str(go), *args],
                    env=cli_env(store),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            for flag in ready
        ]
        deadline = time.monotonic() + 60
        while not all(flag.exists() for flag in ready):
            assert time.monotonic() < deadline, "the racers did not start"
            time.sleep(0.01)
        go.touch()
        answers = [p.communicate(timeout=120) for p in procs]
    return [Ran(args, p.returncode, out, err) for p, (out, err) in zip(procs, answers, strict=True)]


@pytest.mark.parametrize("existing", [False, True], ids=["fresh-store", "existing-store"])
def test_eight_cli_submits_started_at_once_on_postgres_all_answer_without_a_traceback(
    postgres_url: str, tmp_path: Path, existing: bool
) -> None:
    """On PostgreSQL, CLI processes opening the store at the same moment all answer."""
    store = postgres_url
    if existing:
        with open_queue(store):
            pass
    rounds = 3 if existing else 1  # the race is not lost every time: try a few
    for n in range(rounds):
        args = ("submit", "--request-id", f"race-{n}", "--actor", "a", "--target", "p/o", "--json")
        (tmp_path / str(n)).mkdir()

        answers = cli_race(store, tmp_path / str(n), args)

        for ran in answers:
            assert "Traceback" not in ran.output, str(ran)
            assert ran.code == 0, str(ran)
        assert len({ran.stdout for ran in answers}) == 1
        assert log_counts(store) == (n + 1, n + 1)


def test_submit_with_the_cipher_key_in_the_environment_seals_params_and_leaks_nothing(
    store: str,
) -> None:
    """PROOFQUEUE_CIPHER_KEY in the environment seals params and is not taken by
    eventsourcing as its own CIPHER_KEY."""
    key = run_cli(":memory:", "key").stdout.strip()
    env = {"PROOFQUEUE_CIPHER_KEY": key}

    submitted = run_cli(store, *SUBMIT, "--params-json", json.dumps(PARAMS), "--json", env=env)
    assert submitted.code == 0, str(submitted)
    reads = [run_cli(store, *args, env=env) for args in READS]

    assert_nothing_leaked(store, [submitted, *reads], key)


def test_verify_of_one_intent_with_a_deleted_middle_event_names_it_without_a_traceback(
    store: str,
) -> None:
    """`verify ID` reads the stored chain, so a deleted middle event is named, not a crash."""
    seed(store)
    delete_middle_event(RawStore(store))

    ran = run_cli(store, "verify", "order-a")

    assert "Traceback" not in ran.output, str(ran)
    assert ran.code == 1, str(ran)
    assert broken(ran.stdout) == [("order-a", 2)], str(ran)


def test_verify_all_names_an_intent_whose_moved_in_event_precedes_its_own_events_in_the_log(
    store: str,
) -> None:
    """`verify --all` names an intent holding a moved event by its request_id, at the
    right event, and counts every intent."""
    seed(store)
    RawStore(store).move_event("order-a", 4, "order-b", 3)  # an older event, filed later

    ran = run_cli(store, "verify", "--all")

    assert ran.code == 1, str(ran)
    # order-a's event 4, which the views had applied, is named gone from order-a too.
    assert broken(ran.stdout) == [("order-b", 3), ("order-a", 4)], str(ran)
    assert "checked 3 intents" in ran.stdout, str(ran)
