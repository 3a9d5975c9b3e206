"""Damage swept over a small SQLite store: one byte flipped at positions across every kind
of stored event (intent, breaker, transparency log), in its state, its topic and its
originator id, and states cut short. Whatever the damage, every command exits 0, 1 or 2
with at most one line on stderr and never a traceback, ``verify --all`` names it (exit 1),
and a worker still settles every intact open intent.

The views of the store are dropped before each case, so every command's catch-up meets the
damaged event before the views have applied it (the harder case). Positions are sampled
(each header/topic byte of a few events, a spread of state bytes of every event) to keep
the sweep well under a minute.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from proofqueue import ProofQueue, Settings
from proofqueue.domain.breaker import BreakerPolicy
from proofqueue.domain.intent import intent_id
from proofqueue.entrypoints.cli import main
from proofqueue.testing import FakeVendor

OPEN = ("open-1", "open-2", "open-3")
COMMANDS = (
    ("verify", "--all"),
    ("show", "done-1"),
    ("receipt", "done-1"),
    ("show", "open-2"),
    ("list", "--json"),
    ("health",),
    ("replay", "--check"),
)
STATE_SAMPLES = 4  # state byte positions per event (spread from first to last)
WORKER_EVERY = 7  # run the worker after every 4th case


def seed(path: Path) -> None:
    """Intents that settled, retried, failed and wait; a breaker that tripped, recovered,
    was held and released; a signed checkpoint. Then the views are dropped."""
    private, _ = ProofQueue.new_signing_key("sweep.example")
    vendor = FakeVendor()
    policy = BreakerPolicy(min_calls=2, open_s=0.05, probes=1)
    settings = Settings(store=str(path), breaker=policy, signing_key=SecretStr(private))
    with ProofQueue(settings, vendor=vendor) as pq:
        pq.submit("done-1", actor="agent", target="0xP/logo", params={"n": 1})
        vendor.set_phase("job-1", "COMPLETED", "d-1")
        pq.attempt("done-1", follow=2.0)
        pq.record("gone-1", actor="agent", target="0xP/logo", params={"n": 2})
        pq.retry("gone-1", operator="ops")
        pq.cancel("gone-1", reason="not needed", operator="ops")
        guard = pq.parts.guard
        guard.record(failed=True, duration_s=0.01)
        guard.record(failed=True, duration_s=0.01)
        time.sleep(0.1)
        guard.sync()
        if guard.admit():
            guard.record(failed=False, duration_s=0.01)
        guard.sync()
        pq.hold_vendor(reason="maintenance", operator="ops")
        pq.release_vendor(operator="ops")
        for request_id in OPEN:
            pq.record(request_id, actor="agent", target="0xP/logo", params={"n": request_id})
        pq.sign_checkpoint()
    with closing(sqlite3.connect(path)) as db, db:
        tables = db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'pq_%'"
        )
        for (name,) in tables.fetchall():
            db.execute(f"DROP TABLE {name}")


@dataclass(frozen=True)
class Case:
    rowid: int
    column: str  # state, topic, originator_id, truncate
    position: int

    def __str__(self) -> str:
        return f"row {self.rowid} {self.column}@{self.position}"


def rows(path: Path) -> list[tuple[int, str, str, bytes]]:
    with closing(sqlite3.connect(path)) as db:
        found = db.execute(
            "SELECT rowid, originator_id, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
    return [(int(r), str(o), str(t), bytes(s)) for r, o, t, s in found]


def cases(path: Path) -> Iterator[Case]:
    seen_types: set[str] = set()
    for rowid, originator, topic, state in rows(path):
        first_of_type = topic not in seen_types
        seen_types.add(topic)
        step = max(1, len(state) // STATE_SAMPLES)
        for position in range(0, len(state), step):
            yield Case(rowid, "state", position)
        yield Case(rowid, "truncate", len(state) // 2)
        yield Case(rowid, "truncate", len(state) - 1)
        if first_of_type:  # header columns of one event of each type: every byte
            for position in range(0, len(topic), 5):
                yield Case(rowid, "topic", position)
            for position in range(0, len(originator), 7):
                yield Case(rowid, "originator_id", position)


def damage(path: Path, case: Case) -> str:
    """Apply ``case``; answer the originator id (hex) of the event it damaged."""
    with closing(sqlite3.connect(path)) as db, db:
        originator, topic, state = db.execute(
            "SELECT originator_id, topic, state FROM stored_events WHERE rowid = ?",
            (case.rowid,),
        ).fetchone()
        if case.column == "state":
            flipped = bytearray(state)
            flipped[case.position] ^= 0x01 if case.position % 2 else 0x40
            db.execute(
                "UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(flipped), case.rowid)
            )
        elif case.column == "truncate":
            db.execute(
                "UPDATE stored_events SET state = ? WHERE rowid = ?",
                (bytes(state[: case.position]), case.rowid),
            )
        else:
            text = topic if case.column == "topic" else originator
            chars = list(text)
            chars[case.position] = chr(ord(chars[case.position]) ^ 0x01)
            db.execute(
                f"UPDATE stored_events SET {case.column} = ? WHERE rowid = ?",  # noqa: S608
                ("".join(chars), case.rowid),
            )
    return str(originator)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "pristine.db"
    seed(path)
    return path


def check_commands(runner: CliRunner, store: Path, case: Case) -> None:
    env = {"PROOFQUEUE_STORE": str(store), "PROOFQUEUE_VENDOR_URL": None}
    verified = None
    for args in COMMANDS:
        result = runner.invoke(main, list(args), env=env)
        where = f"{case}: proofqueue {' '.join(args)} -> {result.exit_code}\n{result.stderr}"
        assert result.exception is None or isinstance(result.exception, SystemExit), where
        assert result.exit_code in (0, 1, 2), where
        assert "Traceback" not in result.output, where
        assert "unexpected error" not in result.stderr, where
        assert "the store answered an error" not in result.stderr, where
        assert len(result.stderr.strip().splitlines()) <= 1, where
        # verify and replay --check name what they found on stdout (exit 1: a finding).
        if result.exit_code != 0 and args[0] not in ("verify", "replay"):
            assert result.stderr.startswith("proofqueue: "), where
        if args[0] == "replay" and result.exit_code == 1:
            assert "DIFF " in result.stdout, where
        if args[0] == "verify":
            verified = result
    assert verified is not None
    assert verified.exit_code == 1, f"{case}: not found\n{verified.stdout}"
    assert "BROKEN" in verified.stdout


def check_worker(store: Path, damaged_hex: str, case: Case) -> None:
    """Every open intent whose events were not touched gets bought and settles."""
    intact = {r for r in OPEN if intent_id(r).hex != damaged_hex}
    vendor = FakeVendor()
    policy = BreakerPolicy(min_calls=2, open_s=0.05, probes=1)
    settings = Settings(store=str(store), breaker=policy, idle_s=0.01, poll_s=0.02, poll_cap_s=0.05)
    with ProofQueue(settings, vendor=vendor) as pq:
        if pq.health().held:
            # The damage left the breaker's trail ending in a hold (its Released moved to
            # another id: the trail reads as held, and verify names the moved event). A hold
            # is honoured: nothing may be bought.
            with pq.worker(concurrency=4):
                time.sleep(0.3)
            assert not vendor.calls, f"{case}: bought while held"
            return
        until = time.monotonic() + 15
        with pq.worker(concurrency=4):
            while time.monotonic() < until:
                for job in list(vendor.jobs.values()):
                    if job.phase != "COMPLETED":
                        vendor.set_phase(job.job_id, "COMPLETED", f"d-{job.job_id}")
                if all(pq.receipt(r).status == "SETTLED" for r in intact):
                    return
                time.sleep(0.02)
        done = {r: pq.receipt(r).status for r in intact}
    raise AssertionError(f"{case}: intact intents not settled: {done}")


def test_every_command_answers_in_one_line_whatever_byte_is_damaged(
    pristine: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    started = time.monotonic()
    every = list(cases(pristine))
    kinds = {topic.rsplit(".", 1)[-1] for _, _, topic, _ in rows(pristine)}
    assert {"Queued", "AttemptStarted", "Submitted", "Settled", "RetryScheduled", "Failed"} <= kinds
    assert {"Opened", "Transitioned", "Held", "Released", "Started", "Checkpointed"} <= kinds
    for number, case in enumerate(every):
        store = tmp_path / f"case-{number}.db"
        shutil.copy(pristine, store)
        hexid = damage(store, case)
        check_commands(runner, store, case)
        if number % WORKER_EVERY == 0:
            check_worker(store, hexid, case)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
    elapsed = time.monotonic() - started
    print(f"damage sweep: {len(every)} cases in {elapsed:.1f}s")
