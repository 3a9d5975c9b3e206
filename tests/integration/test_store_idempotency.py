"""One intent per request_id, forever: repeats, conflicts and a race of separate processes."""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from proofqueue import IdempotencyConflict, JsonValue
from tests.integration.helpers import (
    Ran,
    assert_clean_refusal,
    cli_env,
    log_counts,
    open_queue,
    run_cli,
    run_cli_many,
)

SUBMIT = ("submit", "--actor", "agent-7", "--target", "0xProvider/logo", "--json")
PARAMS = ("--param", "size=large", "--params-json", '{"colours": ["red", "blue"], "dpi": 300}')
PARAMS_DICT: dict[str, JsonValue] = {"size": "large", "colours": ["red", "blue"], "dpi": 300}

# A racer: a separate interpreter that imports and opens the store, says it is ready, waits
# for the starting gun, then submits, so that all of them reach the submit at the same moment.
# Opening is serialized by a file lock: starting many processes on one PostgreSQL database at
# once is a different race (see the report of bugs found), not the idempotency one.
RACER = """
import fcntl, os, sys, time
from proofqueue import ProofQueue, ProofQueueError
ready, go, lock, request_id = sys.argv[1:5]
with open(lock, "a") as held:
    fcntl.flock(held, fcntl.LOCK_EX)
    pq = ProofQueue.from_env()
open(ready, "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.001)
try:
    receipt = pq.submit(
        request_id, actor="agent-7", target="0xProvider/logo", params={"size": "large"}
    )
except ProofQueueError as exc:
    print(f"proofqueue: {exc}", file=sys.stderr)
    sys.exit(2)
finally:
    pq.close()
print(receipt.model_dump_json())
"""


def race(store: str, tmp_path: Path, request_id: str, processes: int = 8) -> list[Ran]:
    """Start ``processes`` separate interpreters that submit ``request_id`` at once."""
    go, lock = tmp_path / "go", tmp_path / "open.lock"
    ready = [tmp_path / f"ready-{i}" for i in range(processes)]
    with ExitStack() as stack:
        procs = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", RACER, str(flag), str(go), str(lock), request_id],
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
            assert all(p.poll() is None for p in procs), "a racer died before the start"
            time.sleep(0.01)
        go.touch()
        answers = [p.communicate(timeout=120) for p in procs]
    args = ("submit", request_id)
    return [Ran(args, p.returncode, out, err) for p, (out, err) in zip(procs, answers, strict=True)]


def test_the_same_submit_twice_records_one_intent_and_the_second_writes_nothing(
    store: str,
) -> None:
    """A repeated submit (same request_id, same params) answers the same receipt, no event."""
    first = run_cli(store, *SUBMIT, "--request-id", "order-1", *PARAMS)
    assert first.code == 0, str(first)
    assert log_counts(store) == (1, 1)

    second = run_cli(store, *SUBMIT, "--request-id", "order-1", *PARAMS)

    assert second.code == 0, str(second)
    assert second.json() == first.json()
    assert first.json()["status"] == "QUEUED"
    assert log_counts(store) == (1, 1)


def test_the_same_params_in_another_key_order_are_the_same_request(store: str) -> None:
    """Params are compared by content, not spelling: reordered keys are a repeat, not a conflict."""
    with open_queue(store) as pq:
        first = pq.submit("order-2", actor="a", target="p/o", params={"a": 1, "b": {"x": 1}})
        again = pq.submit("order-2", actor="a", target="p/o", params={"b": {"x": 1}, "a": 1})
        assert again == first
        with pytest.raises(IdempotencyConflict):
            pq.submit("order-2", actor="a", target="p/o", params={"a": 1, "b": {"x": 2}})
    assert log_counts(store) == (1, 1)


def test_the_same_request_id_with_other_params_actor_or_target_exits_2_and_writes_nothing(
    store: str,
) -> None:
    """A reused request_id with anything else changed is refused on one line naming it."""
    with open_queue(store) as pq:
        first = pq.submit("order-3", actor="agent-7", target="0xProvider/logo", params=PARAMS_DICT)
    variants = {
        "other params": ("--param", "size=small", "--params-json", '{"dpi": 300}'),
        "other actor": ("--actor", "agent-8", *PARAMS),
        "other target": ("--target", "0xProvider/banner", *PARAMS),
    }
    commands = [(*SUBMIT, "--request-id", "order-3", *extra) for extra in variants.values()]

    answers = run_cli_many(store, commands)

    for what, ran in zip(variants, answers, strict=True):
        line = assert_clean_refusal(ran, 2, "order-3")
        assert "already used" in line, f"{what}: {line}"
    assert log_counts(store) == (1, 1)
    with open_queue(store) as pq:
        assert pq.receipt("order-3") == first


def test_eight_processes_submitting_one_request_id_at_once_record_one_intent(
    store: str, tmp_path: Path
) -> None:
    """Eight OS processes racing on one key: one intent, one event, the same receipt for all."""
    answers = race(store, tmp_path, "order-race")

    for ran in answers:
        assert ran.code == 0, str(ran)
        assert "Traceback" not in ran.output, str(ran)
    receipts = [ran.json() for ran in answers]
    assert all(r == receipts[0] for r in receipts), receipts
    assert receipts[0]["request_id"] == "order-race"
    assert receipts[0]["status"] == "QUEUED"
    assert log_counts(store) == (1, 1)
