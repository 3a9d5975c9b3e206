"""Regression tests for bugs the fault suite found, now fixed."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from proofqueue import ProofQueue, Settings
from proofqueue.entrypoints.cli import main
from proofqueue.testing.simulator import SimConfig, running_simulator


def submit(tmp_path: Path, *extra: str) -> Result:
    env = {"PROOFQUEUE_STORE": str(tmp_path / "pq.db"), "PROOFQUEUE_VENDOR_URL": None}
    args = ["submit", "--request-id=r1", "--actor=a", "--target=p/o", *extra]
    return CliRunner().invoke(main, args, env=env)


def assert_refused_in_one_line(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("proofqueue: ")


def test_params_json_with_a_huge_integer_is_refused_not_a_traceback(tmp_path: Path) -> None:
    """An integer of 5,000 digits in --params-json is bad input (exit 2), not a ValueError."""
    assert_refused_in_one_line(submit(tmp_path, "--params-json", '{"a": ' + "1" * 5000 + "}"))


def test_params_json_nested_past_the_recursion_limit_is_refused(tmp_path: Path) -> None:
    """--params-json nested 100,000 deep is bad input (exit 2), not a RecursionError."""
    assert_refused_in_one_line(submit(tmp_path, "--params-json", "[" * 100_000 + "]" * 100_000))


def test_params_json_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """--params-json @FILE with bytes that are not UTF-8 is bad input, not a UnicodeDecodeError."""
    bad = tmp_path / "params.json"
    bad.write_bytes(b'{"a": "\xff\xfe"}')
    assert_refused_in_one_line(submit(tmp_path, "--params-json", f"@{bad}"))


@pytest.mark.parametrize(
    "params_json",
    [
        '{"password\\nproofqueue: all good": "hunter2"}',  # SecretNeedsKey lists the path
        '{"a\\nproofqueue: all good": NaN}',  # check_json names the path
    ],
)
def test_a_refusal_naming_a_param_key_with_a_line_break_is_one_line(
    tmp_path: Path, params_json: str
) -> None:
    """Error messages quote param keys, so a key cannot forge a second line on stderr."""
    assert_refused_in_one_line(submit(tmp_path, "--params-json", params_json))


@pytest.mark.parametrize("extra", [("--wait", "soon"), ("--bogus",)])
def test_a_usage_error_is_one_proofqueue_line(tmp_path: Path, extra: tuple[str, ...]) -> None:
    """Bad option values are bad input: exit 2 with one 'proofqueue:' line, as documented."""
    assert_refused_in_one_line(submit(tmp_path, *extra))


def test_a_vendor_ignoring_the_key_and_committing_late_is_not_bought_twice(
    tmp_path: Path,
) -> None:
    """Vendor ignores the Idempotency-Key, offers the lookup, and for 8 s half its calls answer
    after 2 s (a create commits only then) while the client reads for 1 s: one job each."""
    config = SimConfig(
        port=0,
        slow_rate=0.5,
        slow_seconds=2,
        no_idempotency_key=True,
        complete_after=0.2,
        seed=7,
    )
    ids = [f"late-{n:02d}" for n in range(30)]
    with running_simulator(config) as url:
        settings = Settings.from_env(
            {
                "PROOFQUEUE_STORE": str(tmp_path / "pq.db"),
                "PROOFQUEUE_VENDOR_URL": url,
                "PROOFQUEUE_READ_TIMEOUT_S": "1",
                "PROOFQUEUE_RETRY_MAX_ATTEMPTS": "100",
                # Retried within 1 s (not up to a minute): the 8 s hold more retries, and
                # the backlog settles soon after it.
                "PROOFQUEUE_RETRY_CAP_S": "1",
                "PROOFQUEUE_POLL_S": "0.2",
                "PROOFQUEUE_POLL_CAP_S": "0.5",
            }
        )
        with ProofQueue(settings) as pq, pq.worker():
            for rid in ids:
                pq.submit(rid, actor="a", target="p/o", params={"n": rid})
            time.sleep(8)
            httpx.post(f"{url}/_sim/faults", json={"slow_rate": 0.0}).raise_for_status()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if all(pq.receipt(rid).is_final for rid in ids):
                    break
                time.sleep(0.1)
            stats = httpx.get(f"{url}/_sim/stats").json()
            settled = [rid for rid in ids if pq.receipt(rid).status == "SETTLED"]
    assert stats["duplicates"] == 0, {
        k: v for k, v in stats["jobs_per_request_id"].items() if v > 1
    }
    assert settled == ids
