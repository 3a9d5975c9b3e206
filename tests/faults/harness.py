"""A fault-injection run: real ``proofqueue worker`` processes against a real ``proofqueue
vendor-sim``, while the vendor misbehaves and the workers keep dying.

The run, in phases (their lengths come from a ``Plan``):

1. mixed: half the intents are queued through the Python API (no vendor URL: nothing is
   sent), then the vendor answers 500 before and after creating the job, hangs past the
   client's read timeout, drops connections and rate-limits with ``Retry-After``;
2. outage: every vendor call fails (``outage_now``) until the breaker has tripped and held
   a while; a quarter of the intents are queued at its start so there is work to fail;
3. no-key: the vendor ignores the Idempotency-Key (the lookup still works) while the mixed
   faults go on and the last quarter is queued;
4. healthy: every fault off, the chaos stops, one last worker finishes the work.

From the start of phase 1 to the end of phase 3 a ``Monkey`` thread runs two worker slots:
a plain worker that it SIGKILLs at random moments, and a worker started with one
PROOFQUEUE_CHAOS crash point at a time (rotating through after_claim, after_vendor_answer,
in_projection) that dies there by itself; each dead worker is restarted at once. A
``CliSubmitter`` thread meanwhile submits some intents through ``proofqueue submit`` with the
vendor URL set, so they are attempted at once from a process of their own.

``run_faults`` returns ``Figures``: what was injected (counted by the simulator), how the
workers died, and what the CLI reports about the outcome. The test asserts on them.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from proofqueue import IntentNotFound, ProofQueue, Settings
from tests.e2e.procs import CLI, cli, cli_json, set_faults, sim_stats, vendor_sim

TARGET = "0x5f1c0ffee0000000000000000000000000000001/logo-design"
POINTS = ("after_claim", "after_vendor_answer", "in_projection")
CHAOS_RATES = {"after_claim": 0.2, "after_vendor_answer": 0.1, "in_projection": 0.2}
CHAOS_EXIT = 137  # proofqueue.chaos dies with os._exit(137)

# Every worker (and the CLI submits) run with these; the test's own ProofQueue too, so that
# the intents it queues get the same raised attempt budget.
WORKER_ENV = {
    "PROOFQUEUE_LEASE_S": "3",  # a dead worker's claim is taken over after 3 s
    "PROOFQUEUE_READ_TIMEOUT_S": "1",  # the simulator hangs 2 s: a real read timeout
    "PROOFQUEUE_CONNECT_TIMEOUT_S": "0.5",  # a call ends within 1.5 s, inside the lease
    "PROOFQUEUE_POLL_S": "0.2",
    "PROOFQUEUE_POLL_CAP_S": "0.5",
    "PROOFQUEUE_IDLE_S": "0.1",
    "PROOFQUEUE_CONCURRENCY": "4",
    "PROOFQUEUE_RETRY_BASE_S": "0.2",
    "PROOFQUEUE_RETRY_CAP_S": "2",
    "PROOFQUEUE_RETRY_MAX_ATTEMPTS": "1000",  # the faults are transient: all must settle
    "PROOFQUEUE_BREAKER_WINDOW_S": "5",
    "PROOFQUEUE_BREAKER_OPEN_S": "1.5",
    "PROOFQUEUE_BREAKER_MAX_OPEN_S": "4",
}
# Phases 1 and 3: about a quarter of the vendor calls fail, too few to trip the breaker;
# among them hostile answers (a 303 or a huge or malformed job id after the job was made,
# bodies that never finish or exceed the cap). Some reads of a completed job come without
# its deliverable (recorded once as JobUnresolved, then read again).
VENDOR_FAULTS: dict[str, Any] = {
    "fail_before": 0.035,
    "fail_after": 0.035,
    "timeout_rate": 0.025,
    "reset_rate": 0.035,
    "rate_limit": 0.035,
    "redirect_after": 0.02,
    "bad_job_id": 0.02,
    "drip_rate": 0.015,
    "oversized_rate": 0.015,
    "no_deliverable_rate": 0.1,
}
HEALTHY: dict[str, Any] = {
    **dict.fromkeys(VENDOR_FAULTS, 0.0),
    "outage_now": False,
    "no_idempotency_key": False,
}
SIM_FLAGS = ("--hang-seconds", "2", "--retry-after", "0.5", "--complete-after", "0.3")
# How long after the outage starts a call sent before it may still come back fine.
OUTAGE_GRACE_S = 3.0


@dataclass(frozen=True)
class Plan:
    """How big a run is."""

    api_intents: int
    cli_intents: int
    min_kills: int
    mixed_s: float
    outage_hold_s: float
    no_key_s: float
    trip_timeout_s: float
    settle_timeout_s: float
    kill_every_s: tuple[float, float]


SMALL = Plan(
    api_intents=140,
    cli_intents=10,
    min_kills=8,
    mixed_s=15,
    outage_hold_s=4,
    no_key_s=15,
    trip_timeout_s=30,
    settle_timeout_s=120,
    kill_every_s=(1.5, 3.0),
)
SOAK = Plan(
    api_intents=4950,
    cli_intents=50,
    min_kills=20,
    mixed_s=90,
    outage_hold_s=8,
    no_key_s=90,
    trip_timeout_s=60,
    settle_timeout_s=1200,
    kill_every_s=(1.0, 3.0),
)


def plan_from_env() -> Plan:
    """SOAK when PROOFQUEUE_SOAK=1, else SMALL."""
    return SOAK if os.environ.get("PROOFQUEUE_SOAK") == "1" else SMALL


def seed_from_env() -> int:
    """PROOFQUEUE_FAULTS_SEED, or a fresh one (printed in the summary, to rerun a failure)."""
    raw = os.environ.get("PROOFQUEUE_FAULTS_SEED")
    return int(raw) if raw else random.SystemRandom().randrange(1, 1_000_000)


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- processes ------------------------------------------------------------------------------


class WorkerProc:
    """One ``proofqueue worker`` process (optionally with one crash point) and its log."""

    def __init__(self, env: Mapping[str, str], log: Path, chaos: str | None = None) -> None:
        self.chaos = chaos
        self.log = log
        self.started = time.monotonic()
        full = {**os.environ, **env}
        full.pop("PROOFQUEUE_CHAOS", None)
        if chaos is not None:
            full["PROOFQUEUE_CHAOS"] = f"{chaos}={CHAOS_RATES[chaos]}"
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [*CLI, "worker"], env=full, stdout=self._out, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 30) -> bool:
        """Wait until the worker has announced itself (its signal handlers are in place)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if b"proofqueue worker " in self.log.read_bytes():
                return True
            time.sleep(0.1)
        return False

    def age(self) -> float:
        return time.monotonic() - self.started

    def exited(self) -> int | None:
        """The exit code once the process has ended by itself, else None."""
        code = self.proc.poll()
        if code is not None:
            self._out.close()
        return code

    def kill(self) -> int:
        """SIGKILL; the exit code (137 if a crash point got there first)."""
        self.proc.send_signal(signal.SIGKILL)
        code = self.proc.wait(10)
        self._out.close()
        return code

    def stop(self) -> int:
        """SIGTERM and wait for a graceful exit."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -int(signal.SIGKILL)
        finally:
            self._out.close()


class Monkey:
    """Two worker slots kept running: ``plain`` (SIGKILLed at random) and ``chaos`` (one
    crash point at a time; the next point once it crashed there). Every death is accounted
    for and restarted."""

    MIN_AGE_S = 1.0  # a worker must be up (imports done, working) before it is killed

    def __init__(self, env: Mapping[str, str], logs: Path, rng: random.Random, plan: Plan):
        self.env = env
        self.logs = logs
        self.rng = rng
        self.plan = plan
        self.kills = 0
        self.crashes: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.errors: list[BaseException] = []
        self.spawned = 0
        self._points = itertools.cycle(POINTS)
        self._point = next(self._points)
        self._slots: dict[str, WorkerProc] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-monkey", daemon=True)
        logs.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self._thread.start()

    def _spawn(self, slot: str) -> None:
        chaos = self._point if slot == "chaos" else None
        self.spawned += 1
        log = self.logs / f"{self.spawned:04d}-{slot}-{chaos or 'plain'}.log"
        self._slots[slot] = WorkerProc(self.env, log, chaos)

    def _account(self, proc: WorkerProc, code: int) -> None:
        if code == -signal.SIGKILL:
            self.kills += 1
        elif code == CHAOS_EXIT and proc.chaos is not None:
            self.crashes[proc.chaos] += 1
            self._point = next(self._points)
        else:
            tail = proc.log.read_text(errors="replace")[-2000:]
            self.unexpected.append(f"worker {proc.log.name} exited {code}: {tail}")

    def _next_kill(self) -> float:
        return time.monotonic() + self.rng.uniform(*self.plan.kill_every_s)

    def _run(self) -> None:
        try:
            for slot in ("plain", "chaos"):
                self._spawn(slot)
            next_kill = self._next_kill()
            while not self._stop.wait(0.05):
                for slot, proc in list(self._slots.items()):
                    code = proc.exited()
                    if code is not None:
                        self._account(proc, code)
                        self._spawn(slot)
                if time.monotonic() >= next_kill:
                    victim = self._slots["plain" if self.rng.random() < 0.9 else "chaos"]
                    if victim.age() >= self.MIN_AGE_S:
                        slot = "chaos" if victim.chaos else "plain"
                        self._account(victim, victim.kill())
                        self._spawn(slot)
                        next_kill = self._next_kill()
        except BaseException as exc:  # re-raised by finish(), in the test's thread
            self.errors.append(exc)

    def wait_for_kills(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.kills < count and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.1)

    def finish(self) -> None:
        """Stop the chaos: the thread, then SIGKILL whatever still runs (counted)."""
        self._stop.set()
        self._thread.join(30)
        for proc in self._slots.values():
            code = proc.exited()
            self._account(proc, proc.kill() if code is None else code)
        self._slots.clear()
        if self.errors:
            raise self.errors[0]


@dataclass
class CliResult:
    request_id: str
    code: int
    stdout: str
    stderr: str


class CliSubmitter:
    """Submits ``ids`` through ``proofqueue submit`` (vendor URL set), spread over ``spread_s``."""

    def __init__(self, env: Mapping[str, str], ids: Sequence[str], spread_s: float) -> None:
        self.env = env
        self.ids = ids
        self.spread_s = spread_s
        self.results: list[CliResult] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cli-submitter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            started = time.monotonic()
            gap = self.spread_s / max(len(self.ids), 1)
            for n, request_id in enumerate(self.ids):
                if self._stop.wait(max(0.0, started + n * gap - time.monotonic())):
                    return
                args = ["--param", f"brief=cli order {n}", "--param", f"n={n}"]
                if n % 2:
                    args = ["--params-json", json.dumps({"brief": f"cli order {n}", "n": n})]
                done = cli(
                    self.env,
                    "submit",
                    "--request-id",
                    request_id,
                    "--actor",
                    "cli-agent",
                    "--target",
                    TARGET,
                    *args,
                    "--json",
                    check=False,
                )
                self.results.append(
                    CliResult(request_id, done.returncode, done.stdout, done.stderr)
                )
        except BaseException as exc:  # re-raised by join(), in the test's thread
            self.errors.append(exc)

    def join(self, timeout: float = 600) -> None:
        self._thread.join(timeout)
        if self.errors:
            raise self.errors[0]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(150)


# -- the figures ----------------------------------------------------------------------------


def fault_counts(requests: Mapping[str, int]) -> dict[str, int]:
    """The simulator's outcome counts, grouped by the fault that caused them."""
    return {
        "500_before": requests.get("create_500_before", 0)
        + requests.get("get_500", 0)
        + requests.get("lookup_500", 0),
        "500_after": requests.get("create_500_after", 0),
        "timeout": requests.get("timeout", 0),
        "reset": requests.get("reset", 0) + requests.get("reset_after", 0),
        "rate_limited": requests.get("rate_limited", 0),
        "outage": requests.get("outage", 0),
        "303_after": requests.get("create_303_after", 0),
        "bad_job_id": requests.get("create_bad_id_after", 0),
        "drip": requests.get("drip", 0),
        "oversized": requests.get("oversized", 0),
        "no_deliverable": requests.get("get_no_deliverable", 0),
    }


@dataclass(frozen=True)
class Move:
    at: datetime
    from_state: str
    to_state: str
    reason: str


def moves_of(*transition_lists: Sequence[Mapping[str, Any]]) -> list[Move]:
    """Breaker transitions from ``health --json`` views, merged, in time order."""
    seen = {
        (t["at"], t["from"], t["to"], t["reason"])
        for transitions in transition_lists
        for t in transitions
    }
    return sorted(
        (Move(datetime.fromisoformat(at), old, new, why) for at, old, new, why in seen),
        key=lambda m: m.at,
    )


def breaker_problems(
    moves: Sequence[Move], outage_start: datetime, outage_end: datetime, final_state: str
) -> list[str]:
    """How the recorded breaker timeline disagrees with the injected outage (none: it fits).

    It must trip to DEGRADED while the outage lasts, never return to OK inside it (after a
    grace for calls sent before it began), return to OK after it ended, and end OK."""
    problems = []
    inside = [m for m in moves if outage_start <= m.at <= outage_end]
    if not any(m.to_state == "DEGRADED" for m in inside):
        problems.append("no trip to DEGRADED during the outage")
    grace = outage_start.timestamp() + OUTAGE_GRACE_S
    early_ok = [m for m in inside if m.to_state == "OK" and m.at.timestamp() > grace]
    if early_ok:
        problems.append(f"back to OK during the outage: {early_ok}")
    if not any(m.to_state == "OK" and m.at > outage_end for m in moves):
        problems.append("no return to OK after the outage ended")
    if final_state != "OK":
        problems.append(f"the breaker ended {final_state}, not OK")
    return problems


@dataclass
class Figures:
    store: str
    seed: int
    plan: Plan
    submitted: list[str] = field(default_factory=list)
    cli_results: list[CliResult] = field(default_factory=list)
    api_not_queued: list[str] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    no_key_jobs: int = 0
    kills: int = 0
    crashes: Counter[str] = field(default_factory=Counter)
    unexpected_exits: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    phantoms: list[str] = field(default_factory=list)
    jobs: int = 0
    duplicates: int = 0
    not_one_job: dict[str, int] = field(default_factory=dict)
    job_mismatches: list[str] = field(default_factory=list)
    verify_code: int = -1
    verify: dict[str, Any] = field(default_factory=dict)
    replay_code: int = -1
    replay: dict[str, Any] = field(default_factory=dict)
    mixed_extra_s: float = 0.0
    trip_after_s: float | None = None
    ok_after_s: float | None = None
    moves: list[Move] = field(default_factory=list)
    breaker_problems: list[str] = field(default_factory=list)
    settle_s: float | None = None
    last_worker_code: int = -1
    elapsed_s: float = 0.0

    @property
    def label(self) -> str:
        return "postgres" if self.store.startswith("postgres") else "sqlite"

    @property
    def chains_verified(self) -> int:
        return int(self.verify.get("intents", 0)) - len(self.verify.get("problems", []))

    @property
    def replay_mismatches(self) -> int:
        return len(self.replay.get("differences", []))

    def summary(self) -> str:
        """The one line of figures a run prints."""
        faults = ", ".join(f"{k}: {v}" for k, v in self.faults.items())
        crashes = ", ".join(f"{p}: {self.crashes[p]}" for p in POINTS)
        trip = "-" if self.trip_after_s is None else f"+{self.trip_after_s:.1f}s"
        back = "-" if self.ok_after_s is None else f"+{self.ok_after_s:.1f}s"
        return (
            f"faults[{self.label}]: intents={len(self.submitted)}"
            f" (api={self.plan.api_intents} cli={self.plan.cli_intents})"
            f" faults={{{faults}}} no_key_jobs={self.no_key_jobs}"
            f" kills={self.kills} crashes={sum(self.crashes.values())} {{{crashes}}}"
            f" lost={len(self.lost)} duplicates={self.duplicates}"
            f" settled={self.statuses['SETTLED']} failed={self.statuses['FAILED']}"
            f" chains_verified={self.chains_verified}"
            f" replay_mismatches={self.replay_mismatches}"
            f" breaker: {len(self.moves)} moves, DEGRADED {trip} into the outage,"
            f" OK {back} after it"
            f" seed={self.seed} took={self.elapsed_s:.1f}s"
        )


# -- the run --------------------------------------------------------------------------------


def _queue(pq: ProofQueue, ids: Sequence[str], figures: Figures) -> None:
    """Queue through the Python API (no vendor URL: nothing is sent)."""
    for request_id in ids:
        receipt = pq.submit(
            request_id, actor="api-agent", target=TARGET, params={"brief": request_id}
        )
        figures.submitted.append(request_id)
        if receipt.status != "QUEUED":
            figures.api_not_queued.append(f"{request_id}: {receipt.status}")


def _first_move(pq: ProofQueue, to_state: str, since: datetime, timeout: float) -> float | None:
    """Seconds from ``since`` to the first recorded move to ``to_state`` after it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for move in moves_of([t.model_dump(mode="json") for t in pq.health().transitions]):
            if move.to_state == to_state and move.at >= since:
                return (move.at - since).total_seconds()
        time.sleep(0.2)
    return None


# The simulator's flag behind each fault count (``fault_counts``).
FAULT_FLAGS = {
    "500_before": "fail_before",
    "500_after": "fail_after",
    "timeout": "timeout_rate",
    "reset": "reset_rate",
    "rate_limited": "rate_limit",
    "303_after": "redirect_after",
    "bad_job_id": "bad_job_id",
    "drip": "drip_rate",
    "oversized": "oversized_rate",
    "no_deliverable": "no_deliverable_rate",
}


def _until_each_fault(url: str, timeout: float) -> float:
    """Extend phase 1 (up to ``timeout``) until each vendor fault has happened once. A rare
    fault may not have come up by chance (a fault of creates, once most intents are bought;
    or a slow machine made few calls): the missing ones are raised to half of the calls
    between them until each has. Returns the extra seconds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        seen = fault_counts(sim_stats(url)["requests"])
        missing = [name for name in FAULT_FLAGS if seen[name] == 0]
        if not missing:
            break
        share = 0.5 / len(missing)  # the simulator's rates of failing calls add up to <= 1
        set_faults(url, **{**VENDOR_FAULTS, **{FAULT_FLAGS[name]: share for name in missing}})
        time.sleep(0.5)
    set_faults(url, **VENDOR_FAULTS)
    return time.monotonic() - started


def _wait_terminal(pq: ProofQueue, total: int, timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        counts = pq.counts()
        if sum(counts.values()) >= total and counts["SETTLED"] + counts["FAILED"] == sum(
            counts.values()
        ):
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def _tracebacks(logs: Path) -> list[str]:
    found = []
    for log in sorted(logs.glob("*.log")):
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            last = text[text.index("Traceback") :].strip().splitlines()
            found.append(f"{log.name}: {last[-1] if last else ''}")
    return found


def run_faults(store: str, tmp: Path, plan: Plan, seed: int) -> Figures:
    """Run the whole scenario on ``store``; return its figures (the caller asserts)."""
    started = time.monotonic()
    rng = random.Random(seed)
    figures = Figures(store=store, seed=seed, plan=plan)
    api_ids = [f"api-{n:05d}" for n in range(plan.api_intents)]
    cli_ids = [f"cli-{n:04d}" for n in range(plan.cli_intents)]
    half, three_quarters = len(api_ids) // 2, len(api_ids) * 3 // 4
    settings = Settings.from_env({**WORKER_ENV, "PROOFQUEUE_STORE": store})
    logs = tmp / "workers"
    flags = (*SIM_FLAGS, "--seed", str(seed))
    with vendor_sim(tmp, *flags) as url, ProofQueue(settings) as pq:
        env = {**WORKER_ENV, "PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": url}
        _queue(pq, api_ids[:half], figures)
        monkey = Monkey(env, logs, rng, plan)
        submitter = CliSubmitter(env, cli_ids, plan.mixed_s + plan.no_key_s)
        try:
            # 1. mixed faults
            set_faults(url, **VENDOR_FAULTS)
            monkey.start()
            submitter.start()
            time.sleep(plan.mixed_s)
            figures.mixed_extra_s = _until_each_fault(url, plan.mixed_s)
            # 2. outage
            outage_start = utcnow()
            set_faults(url, outage_now=True)
            _queue(pq, api_ids[half:three_quarters], figures)
            figures.trip_after_s = _first_move(pq, "DEGRADED", outage_start, plan.trip_timeout_s)
            time.sleep(plan.outage_hold_s)
            set_faults(url, outage_now=False)
            outage_end = utcnow()
            # 3. the vendor ignores the Idempotency-Key (the lookup still works)
            set_faults(url, no_idempotency_key=True)
            jobs_before = sim_stats(url)["jobs"]
            _queue(pq, api_ids[three_quarters:], figures)
            time.sleep(plan.no_key_s)
            figures.no_key_jobs = sim_stats(url)["jobs"] - jobs_before
            # 4. healthy
            set_faults(url, **HEALTHY)
            submitter.join()
            monkey.wait_for_kills(plan.min_kills, timeout=120)
        finally:
            submitter.stop()
            monkey.finish()
        figures.submitted.extend(r.request_id for r in submitter.results)
        figures.cli_results = submitter.results
        figures.kills, figures.crashes = monkey.kills, monkey.crashes
        figures.unexpected_exits = monkey.unexpected

        last = WorkerProc(env, logs / "last.log")
        try:
            last.wait_ready()
            figures.settle_s = _wait_terminal(pq, len(figures.submitted), plan.settle_timeout_s)
            figures.ok_after_s = _first_move(pq, "OK", outage_end, 1.0)
        finally:
            figures.last_worker_code = last.stop()

        stats = sim_stats(url)
        figures.faults = fault_counts(stats["requests"])
        figures.jobs, figures.duplicates = stats["jobs"], stats["duplicates"]
        per_request: dict[str, int] = stats["jobs_per_request_id"]
        figures.not_one_job = {
            rid: per_request.get(rid, 0)
            for rid in set(figures.submitted) | set(per_request)
            if per_request.get(rid, 0) != 1
        }

        rows = cli_json(env, "list", "--limit", "10000")
        status_of = {row["request_id"]: row["status"] for row in rows}
        figures.statuses = Counter(status_of.values())
        figures.lost = [
            rid for rid in figures.submitted if status_of.get(rid) not in ("SETTLED", "FAILED")
        ]
        figures.phantoms = sorted(set(status_of) - set(figures.submitted))

        done = cli(env, "verify", "--all", "--json", check=False)
        figures.verify_code, figures.verify = done.returncode, json.loads(done.stdout or "{}")
        done = cli(env, "replay", "--check", "--json", check=False)
        figures.replay_code, figures.replay = done.returncode, json.loads(done.stdout or "{}")

        health = cli_json(env, "health")
        then = cli_json(env, "replay", "--as-of", outage_end.isoformat())["health"]
        figures.moves = moves_of(then["transitions"], health["transitions"])
        figures.breaker_problems = breaker_problems(
            figures.moves, outage_start, outage_end, health["state"]
        )

        with httpx.Client(base_url=url, timeout=10) as vendor:
            for rid in figures.submitted:
                try:
                    receipt = pq.receipt(rid)
                except IntentNotFound:
                    figures.job_mismatches.append(f"{rid}: no intent")
                    continue
                found = vendor.get("/acp/jobs", params={"clientRequestId": rid}).json()["data"]
                held = [(j["id"], (j["deliverable"] or {}).get("id")) for j in found]
                if held != [(receipt.job_id, receipt.deliverable_id)]:
                    figures.job_mismatches.append(
                        f"{rid}: receipt {receipt.job_id}/{receipt.deliverable_id}, vendor {held}"
                    )
    figures.tracebacks = _tracebacks(logs) + [
        f"cli submit {r.request_id}: {r.stderr.strip().splitlines()[-1]}"
        for r in figures.cli_results
        if "Traceback" in r.stderr
    ]
    figures.elapsed_s = time.monotonic() - started
    return figures
