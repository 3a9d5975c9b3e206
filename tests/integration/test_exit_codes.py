"""``submit --wait`` and ``receipt --wait`` say how the wait ended: 0 settled, 4 FAILED, 5
not terminal within the wait (design.md, "Exit codes (extended)")."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from proofqueue.entrypoints.cli import main
from proofqueue.testing.simulator import SimConfig, running_simulator

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
