"""Under kill -9, crash points and a misbehaving vendor, nothing is lost or bought twice, every
proof chain verifies, the views equal a replay, and the breaker's timeline fits the outage.

The normal test run uses the small plan (150 intents); PROOFQUEUE_SOAK=1 (``make soak``) the
large one (5,000 intents, 20 kills at least). Each run prints one summary line of figures
(``pytest -s`` or ``-rA`` shows it). PROOFQUEUE_FAULTS_SEED=N repeats a run's random choices.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.harness import POINTS, plan_from_env, run_faults, seed_from_env


@pytest.mark.slow
def test_chaos_loses_nothing_buys_nothing_twice_and_every_proof_holds(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Workers SIGKILLed and crashing at every crash point while the vendor fails, hangs,
    resets, rate-limits, goes down and ignores the Idempotency-Key: all intents settle once."""
    plan = plan_from_env()
    figures = run_faults(store, tmp_path, plan, seed_from_env())
    with capsys.disabled():  # the figures belong in every run's output, CI's included
        print(f"\n{figures.summary()}")

    # The run did what it says: every fault was injected, workers died in every way.
    assert all(figures.faults[name] > 0 for name in figures.faults), figures.faults
    assert figures.no_key_jobs > 0, "no job was created while the vendor ignored the key"
    assert figures.kills >= plan.min_kills
    assert all(figures.crashes[point] > 0 for point in POINTS), figures.crashes
    assert figures.unexpected_exits == []
    assert figures.tracebacks == []

    # Every submission was taken: the API queued, the CLI answered 0 with a receipt.
    assert figures.api_not_queued == []
    bad_cli = [r for r in figures.cli_results if r.code != 0]
    assert bad_cli == []
    assert all(json.loads(r.stdout)["request_id"] == r.request_id for r in figures.cli_results)
    assert len(figures.submitted) == plan.api_intents + plan.cli_intents

    # Nothing lost, nothing invented, nothing bought twice; each receipt names the vendor's job.
    assert figures.settle_s is not None, "the last worker did not finish in time"
    assert figures.last_worker_code == 0
    assert figures.lost == []
    assert figures.phantoms == []
    assert figures.statuses["SETTLED"] == len(figures.submitted)
    assert figures.duplicates == 0
    assert figures.not_one_job == {}
    assert figures.jobs == len(figures.submitted)
    assert figures.job_mismatches == []

    # The proof and the views hold.
    assert figures.verify_code == 0, figures.verify
    assert figures.chains_verified == len(figures.submitted)
    assert figures.replay_code == 0, figures.replay["differences"][:10]
    assert figures.replay_mismatches == 0

    # The breaker's recorded timeline matches the injected outage.
    assert figures.breaker_problems == [], figures.moves
