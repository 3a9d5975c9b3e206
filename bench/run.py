"""``make bench``: proofqueue measured side by side with raw SQLite, plain httpx and DBOS
Transact, in one run on one machine. Prints a table and writes it to ``bench/last-run.md``.

    .venv/bin/python -m bench.run            # the full run (15-20 minutes on 2 cores)
    .venv/bin/python -m bench.run --quick    # smaller numbers; writes no file
    .venv/bin/python -m bench.run --only 7,8,9   # some figures only; writes no file

Figure 7 needs PostgreSQL: ``scripts/with-postgres`` starts a throwaway server and sets
PROOFQUEUE_TEST_POSTGRES_URL (``make bench`` runs through it); without it the figure says so.

Every figure is the median of ``--runs`` runs (3), the contenders' runs interleaved (their
order rotates from run to run) so that a busy moment on the machine does not land on one
contender only. Each run is a child process of its own (``bench.child``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import ROOT, describe, load_average
from bench.report import Page, Row, render
from bench.sim import COMPLETE_AFTER_S, calls, vendor_sim
from bench.stats import median, ratio

Result = dict[str, Any]
DEFAULT_OUT = ROOT / "bench" / "last-run.md"
BREAKER_CALLS = 2000  # figure 8: timed records per run
PG_ENV = "PROOFQUEUE_TEST_POSTGRES_URL"  # figure 7's server (scripts/with-postgres sets it)


@dataclass(frozen=True)
class Plan:
    name: str
    submits: int  # figure 1: submits (and raw rows) per run
    e2e: int  # figure 2: intents per contender per run
    drain: int  # figure 3: the backlog
    drain_runs: int
    small: int  # figure 5: the two log sizes
    large: int
    window_s: float  # figure 5: how long a worker drains per memory run
    list_calls: int  # figure 6: calls per filter per run
    fleet: int  # figure 7: intents queued on PostgreSQL per drain
    window_calls: int  # figure 8: calls in the large shared window
    rounds: int  # figure 9: timed worker rounds per run (on the log of `large` intents)


FULL = Plan("full", 3000, 300, 10_000, 1, 10_000, 100_000, 15.0, 100, 2_000, 30_000, 200)
QUICK = Plan("quick", 300, 100, 1_000, 1, 2_000, 20_000, 8.0, 100, 500, 30_000, 200)
FIGURES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11")
ASYNC_CONCURRENCY = 50  # figure 11: async submits in flight


@dataclass
class Series:
    """One contender's values across runs, and the runs that failed."""

    values: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return median(self.values)

    def runs(self) -> str:
        failed = f", {len(self.errors)} failed" if self.errors else ""
        return f"{len(self.values)}{failed}"

    def why(self) -> str:
        return self.errors[0] if self.errors else "no value"


def rate(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.1f}/s" if value < 100 else f"{value:,.0f}/s"


def times(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def mib(kib: float | None) -> str:
    return "—" if kib is None else f"{kib / 1024:.1f} MiB"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


class Runner:
    def __init__(self, plan: Plan, runs: int, workdir: Path) -> None:
        self.plan = plan
        self.runs = runs
        self.workdir = workdir
        self.started = time.monotonic()
        self.page_runs: list[str] = []
        self.notes: list[str] = []
        self.phases: list[str] = []
        self.last_worker_store: str | None = None  # figure 6 lists the last one drained

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f} s] {text}", file=sys.stderr, flush=True)

    def path(self, name: str) -> str:
        return str(self.workdir / name)

    def child(self, name: str, timeout: float, **kwargs: Any) -> Result:
        """Run one measurement in a fresh process; a failure becomes ``{"error": ...}``."""
        command = [sys.executable, "-m", "bench.child", name, json.dumps(kwargs)]
        try:
            done = subprocess.run(  # noqa: S603  (this interpreter, our own module)
                command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return {"error": f"{name}: timed out after {timeout:g} s"}
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            return {"error": f"{name}: {lines[-1] if lines else f'exit {done.returncode}'}"}
        result: Result = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def record(self, text: str) -> None:
        self.page_runs.append(text)
        self.say(text)

    def phase(self, name: str, body: Callable[[], list[Row]]) -> list[Row]:
        began = time.monotonic()
        self.say(f"{name} ...")
        rows = body()
        self.phases.append(f"{name}: {time.monotonic() - began:.0f} s")
        return rows


# ---- figure 1 ----------------------------------------------------------------------------


def submit_figure(r: Runner) -> list[Row]:
    intents, events, raw, memory = Series(), Series(), Series(), Series()
    shape: Result | None = None
    for run in range(r.runs):
        order = ("pq", "raw", "memory") if run % 2 == 0 else ("memory", "raw", "pq")
        for who in order:
            if who == "memory":
                got = r.child("submit", 300, store=":memory:", count=r.plan.submits)
                if "error" in got:
                    memory.errors.append(got["error"])
                    continue
                memory.values.append(got["intents"] / got["seconds"])
                r.record(
                    f"1 submit on :memory: run {run + 1}: {got['intents']} submits in"
                    f" {got['seconds']:.2f} s"
                )
            elif who == "pq":
                got = r.child("submit", 300, store=r.path(f"submit-{run}.db"), count=r.plan.submits)
                if "error" in got:
                    intents.errors.append(got["error"])
                    events.errors.append(got["error"])
                    continue
                shape = shape or got
                intents.values.append(got["intents"] / got["seconds"])
                events.values.append(got["events"] / got["seconds"])
                r.record(
                    f"1 submit run {run + 1}: {got['intents']} submits, {got['events']} events"
                    f" in {got['seconds']:.2f} s; mean stored event {got['state_bytes']:.0f} B"
                    f" state + {got['topic_bytes']:.0f} B topic; journal {got['journal_mode']},"
                    f" synchronous={got['synchronous']}"
                )
            elif shape is not None:
                got = r.child(
                    "raw-insert",
                    300,
                    path=r.path(f"raw-{run}.db"),
                    count=r.plan.submits,
                    state_bytes=round(shape["state_bytes"]),
                    topic_bytes=round(shape["topic_bytes"]),
                    synchronous=shape["synchronous"],
                )
                if "error" in got:
                    raw.errors.append(got["error"])
                    continue
                raw.values.append(got["rows"] / got["seconds"])
                r.record(
                    f"1 raw sqlite3 run {run + 1}: {got['rows']} rows in {got['seconds']:.2f} s;"
                    f" journal {got['journal_mode']}, synchronous={got['synchronous']}"
                )
    per_submit = f"{shape['events'] / shape['intents']:.2f} event per submit" if shape else "events"
    machine = _machine_rows(r)
    reference = f"raw sqlite3 INSERT, 1 row per commit: {rate(raw.median)}"
    event_ratio = ratio(events.median, raw.median)
    return [
        Row("1", "durable submit, intents/s", rate(intents.median), reference,
            times(ratio(intents.median, raw.median)), "—", "info", intents.runs()),
        Row("1", "submit on a `:memory:` store (no disk: the submit path's CPU ceiling)",
            rate(memory.median), reference, times(ratio(memory.median, raw.median)), "—",
            "info", memory.runs()),
        Row("1", f"durable submit, recorded events/s ({per_submit})", rate(events.median),
            reference, times(event_ratio), "≥ 0.50x raw",
            verdict(None if event_ratio is None else event_ratio >= 0.5),
            f"{events.runs()} / raw {raw.runs()}"),
        *machine,
    ]  # fmt: skip


def _machine_rows(r: Runner) -> list[Row]:
    """What this machine does to any path that works between its commits (bench.probe)."""
    got = r.child("probe", 300)
    if "error" in got:
        r.record(f"1 machine probe: FAILED {got['error']}")
        return []
    commit = got["commit_us"]
    r.record(
        f"1 machine probe: one-row commit {commit['0']:.0f} µs back to back,"
        f" {commit['500']:.0f} µs after 500 µs of CPU work; json work {got['tight_us']:.0f} µs"
        f" of CPU back to back, {got['after_pause_us']:.0f} µs after a 0.5 ms sleep; a commit"
        f" {got['alone_us']:.0f} µs alone, {got['beside_us']:.0f} µs beside a thread running"
        " Python"
    )
    return [
        Row("1", "this machine: a one-row commit after 500 µs of CPU work (bench.probe)",
            f"{commit['500']:.0f} µs", f"back to back: {commit['0']:.0f} µs",
            times(ratio(commit["500"], commit["0"])), "—", "info", "1"),
        Row("1", "this machine: CPU time of a piece of Python work right after a 0.5 ms sleep",
            f"{got['after_pause_us']:.0f} µs", f"back to back: {got['tight_us']:.0f} µs",
            times(ratio(got["after_pause_us"], got["tight_us"])), "—", "info", "1"),
        Row("1", "this machine: a one-row commit while one other thread runs Python (the GIL"
            " comes back late)", f"{got['beside_us']:.0f} µs", f"alone: {got['alone_us']:.0f} µs",
            times(ratio(got["beside_us"], got["alone_us"])), "—", "info", "1"),
    ]  # fmt: skip


# ---- figure 2 ----------------------------------------------------------------------------

CONTENDERS: dict[str, str] = {
    "pq-worker": "proofqueue: 8 callers submit (the create is made in the caller),"
    " pq.worker(concurrency=8) reads jobs to SETTLED; up to 16 calls in flight",
    "pq-inline": "proofqueue: 8 callers submit(wait=60), each follows its own job to SETTLED;"
    " 8 in flight like the references",
    "httpx": "plain httpx, 8 threads, nothing durable",
    "dbos-wal": "DBOS Transact, SQLite in WAL mode (as proofqueue's store)",
    "dbos-journal": "DBOS Transact, SQLite as DBOS leaves it (rollback journal)",
}


def _e2e_once(r: Runner, who: str, run: int, url: str, timeout_s: float) -> Result:
    common: dict[str, Any] = {"url": url, "count": r.plan.e2e, "timeout_s": timeout_s}
    if who in ("pq-worker", "pq-inline"):
        return r.child(who, timeout_s + 60, store=r.path(f"e2e-{who}-{run}.db"), **common)
    if who == "httpx":
        return r.child("httpx", timeout_s + 60, **common)
    directory = r.path(f"{who}-{run}")
    os.makedirs(directory, exist_ok=True)
    return r.child("dbos", timeout_s + 60, directory=directory, wal=who == "dbos-wal", **common)


def e2e_figure(r: Runner) -> list[Row]:
    speed = {who: Series() for who in CONTENDERS}
    per_intent = {who: Series() for who in CONTENDERS}
    names = list(CONTENDERS)
    for run in range(r.runs):
        for who in names[run % len(names) :] + names[: run % len(names)]:
            with vendor_sim() as url:
                got = _e2e_once(r, who, run, url, timeout_s=120)
                made = calls(url)
            if "error" not in got and got["settled"] != r.plan.e2e:
                got = {"error": f"{who}: {got['settled']} of {r.plan.e2e} settled"}
            if "error" in got:
                speed[who].errors.append(got["error"])
                r.record(f"2 e2e run {run + 1} {who}: FAILED {got['error']}")
                continue
            speed[who].values.append(got["settled"] / got["seconds"])
            per_intent[who].values.append(made.total / r.plan.e2e)
            r.record(
                f"2 e2e run {run + 1} {who}: {got['settled']} settled in {got['seconds']:.2f} s;"
                f" vendor calls {made.creates} creates + {made.reads} reads + {made.lookups}"
                f" lookups, duplicates {made.duplicates}; peak RSS {mib(got['peak_rss_kib'])}"
            )
    rows: list[Row] = []
    for who, ref, target in (
        ("pq-worker", "dbos-wal", True),
        ("pq-inline", "dbos-wal", True),
        ("pq-worker", "dbos-journal", False),
        ("pq-worker", "httpx", False),
        ("pq-inline", "httpx", False),
    ):
        ours, reference = speed[who], speed[ref]
        shown = rate(reference.median) if reference.values else f"did not run: {reference.why()}"
        value = ratio(ours.median, reference.median)
        rows.append(
            Row("2", f"end to end, intents/s — {CONTENDERS[who]}", rate(ours.median),
                f"{CONTENDERS[ref]}: {shown}", times(value),
                "≥ 1.00x DBOS" if target else "—",
                verdict(None if value is None else value >= 1.0) if target else "info",
                f"{ours.runs()} / {reference.runs()}")
        )  # fmt: skip
    for who in ("dbos-wal", "dbos-journal"):
        if not speed[who].values:
            r.notes.append(f"DBOS Transact ({who}) could not run here: {speed[who].why()}")
    spread = ", ".join(f"{who} {median(s.values):.2f}" for who, s in per_intent.items() if s.values)
    r.notes.append(f"Figure 2, vendor calls per intent (median): {spread}.")
    return rows


# ---- figure 3 and 4 ----------------------------------------------------------------------


def drain_figure(r: Runner) -> list[Row]:
    store = r.path("drain.db")
    built = r.child("build", 600, store=store, count=r.plan.drain)
    if "error" in built:
        return [Row("3", "backlog drain", "—", built["error"], "—", "—", "n/a", "0")]
    r.record(
        f"3 backlog of {r.plan.drain} queued intents built in {built['save_s']:.1f} s"
        f" (+ {built['catch_up_s']:.1f} s bringing the views up to date)"
    )
    seconds, first, creates, total = Series(), Series(), Series(), Series()
    for run in range(r.plan.drain_runs):
        if run:  # later runs drain a fresh copy of the same backlog
            store = r.path(f"drain-{run}.db")
            r.child("build", 600, store=store, count=r.plan.drain)
        with vendor_sim() as url:
            got = r.child("drain", 540, store=store, url=url, timeout_s=480, count=r.plan.drain)
            made = calls(url)
        if "error" not in got and got["settled"] != r.plan.drain:
            got = {"error": f"drain: {got['settled']} of {r.plan.drain} settled in time"}
        if "error" in got:
            seconds.errors.append(got["error"])
            r.record(f"3 drain run {run + 1}: FAILED {got['error']}")
            continue
        seconds.values.append(got["seconds"])
        if got["first_settled_s"] is not None:
            first.values.append(got["first_settled_s"])
        creates.values.append(made.creates / r.plan.drain)
        total.values.append(made.total / r.plan.drain)
        r.record(
            f"3 drain run {run + 1}: {got['settled']} settled in {got['seconds']:.1f} s"
            f" ({got['settled'] / got['seconds']:.1f}/s), the first after"
            f" {got['first_settled_s'] or 0:.1f} s; {got['events']} events written;"
            f" vendor calls {made.creates} creates + {made.reads} reads + {made.lookups} lookups"
            f" + {made.other} other, {made.jobs} jobs, {made.duplicates} duplicates;"
            f" worker process peak RSS {mib(got['peak_rss_kib'])}"
        )
    drained = seconds.median
    per_s = r.plan.drain / drained if drained else None
    c, t = creates.median, total.median
    return [
        Row("3", f"backlog drain: {r.plan.drain:,} queued intents to SETTLED after the vendor"
            " is healthy, seconds", "—" if drained is None else f"{drained:.1f} s ({rate(per_s)})",
            "—", "—", "—", "info", seconds.runs()),
        Row("3", "backlog drain: seconds until the first intent is SETTLED",
            "—" if first.median is None else f"{first.median:.1f} s", "—", "—", "—", "info",
            first.runs()),
        Row("3", "vendor creates per intent (jobs bought)", "—" if c is None else f"{c:.2f}",
            "1.00 (each intent bought once)", times(c), "≤ 1.1", verdict(None if c is None
            else c <= 1.1), creates.runs()),
        Row("3", "all vendor calls per intent (creates + job reads + lookups)",
            "—" if t is None else f"{t:.2f}", "2.00 (a create, then ≥ 1 read to see it done)",
            times(None if t is None else t / 2), "≤ 1.1", verdict(None if t is None
            else t <= 1.1), total.runs()),
    ]  # fmt: skip


def replay_figure(r: Runner) -> list[Row]:
    store = r.path("drain.db")
    replayed, read, plain, decoded = Series(), Series(), Series(), Series()
    events = 0
    for run in range(r.runs):
        order = ("replay", "raw-read") if run % 2 == 0 else ("raw-read", "replay")
        for who in order:
            got = r.child(who, 600, store=store)
            if "error" in got:
                (replayed if who == "replay" else read).errors.append(got["error"])
                r.record(f"4 {who} run {run + 1}: FAILED {got['error']}")
                continue
            events = got["events"]
            if who == "replay":
                replayed.values.append(got["events"] / got["seconds"])
                r.record(
                    f"4 replay run {run + 1}: {got['events']} events in {got['seconds']:.2f} s"
                )
            else:
                read.values.append(got["events"] / got["seconds"])
                plain.values.append(got["sqlite_rows"] / got["sqlite_seconds"])
                decoded.values.append(got["events"] / got["decode_seconds"])
                r.record(
                    f"4 raw read run {run + 1}: select_notifications {got['events']} in"
                    f" {got['seconds']:.3f} s; the same and decoding each event in"
                    f" {got['decode_seconds']:.3f} s; sqlite3 SELECT {got['sqlite_rows']} in"
                    f" {got['sqlite_seconds']:.3f} s"
                )
    value = ratio(replayed.median, read.median)
    return [
        Row("4", f"replay (pq.replay(): every view rebuilt), events/s over {events:,} events",
            rate(replayed.median), "app.recorder.select_notifications, batches of 1000:"
            f" {rate(read.median)}", times(value), "≥ 0.50x raw read",
            verdict(None if value is None else value >= 0.5),
            f"{replayed.runs()} / {read.runs()}"),
        Row("4", "replay, events/s (same runs)", rate(replayed.median),
            f"plain sqlite3 SELECT of stored_events: {rate(plain.median)}",
            times(ratio(replayed.median, plain.median)), "—", "info",
            f"{replayed.runs()} / {plain.runs()}"),
        Row("4", "replay, events/s (same runs)", rate(replayed.median),
            "select_notifications + mapper.to_domain_event on every event, nothing applied:"
            f" {rate(decoded.median)}", times(ratio(replayed.median, decoded.median)), "—",
            "info", f"{replayed.runs()} / {decoded.runs()}"),
    ]  # fmt: skip


# ---- figure 5 and 6 ----------------------------------------------------------------------


def _growth_row(label: str, small: Series, large: Series, net: str, r: Runner) -> Row:
    value = ratio(large.median, small.median)
    return Row(
        "5", label, f"{r.plan.large:,}: {mib(large.median)}",
        f"{r.plan.small:,}: {mib(small.median)}",
        "—" if value is None else f"{value:.3f}x ({(value - 1) * 100:+.1f}%); {net}",
        "< 1.20x (grows < 20%)", verdict(None if value is None else value < 1.2),
        f"{small.runs()} / {large.runs()}",
    )  # fmt: skip


def _net(small_peak: Series, small_base: Series, large_peak: Series, large_base: Series) -> str:
    """Growth above each process's RSS before the work started."""
    parts = [median(s.values) for s in (small_peak, small_base, large_peak, large_base)]
    if any(p is None for p in parts):
        return "net —"
    sp, sb, lp, lb = (p or 0.0 for p in parts)
    return f"above the RSS before work: {mib(sp - sb)} → {mib(lp - lb)}"


def copy_store(source: str, target: str) -> str:
    """A copy of a closed SQLite store, so every run starts from the same log."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(source + suffix):
            shutil.copyfile(source + suffix, target + suffix)
    return target


def memory_figure(r: Runner) -> list[Row]:
    sizes = {"small": r.plan.small, "large": r.plan.large}
    stores = {size: r.path(f"log-{size}.db") for size in sizes}
    for size, count in sizes.items():
        built = r.child("build", 900, store=stores[size], count=count)
        if "error" in built:
            return [Row("5", "peak memory", "—", built["error"], "—", "—", "n/a", "0")]
        r.record(
            f"5 log of {count} queued intents built in {built['save_s']:.1f} s"
            f" (+ {built['catch_up_s']:.1f} s bringing the views up to date)"
        )
    peak = {f"{kind}-{size}": Series() for kind in ("worker", "replay") for size in sizes}
    base = {key: Series() for key in peak}
    for kind in ("worker", "replay"):
        for run in range(r.runs):
            order = ["small", "large"] if run % 2 == 0 else ["large", "small"]
            for size in order:
                key = f"{kind}-{size}"
                what = ""
                if kind == "worker":
                    store = copy_store(stores[size], r.path(f"worker-{size}-{run}.db"))
                    with vendor_sim() as url:
                        got = r.child("drain", r.plan.window_s + 120, store=store, url=url,
                                      timeout_s=r.plan.window_s + 60,
                                      window_s=r.plan.window_s)  # fmt: skip
                        made = calls(url)
                    r.last_worker_store = store
                    if "error" not in got:
                        what = (
                            f"worker ran {got['ran_s']:.1f} s: {made.creates} creates,"
                            f" {made.reads} reads, {got['settled']} settled"
                        )
                else:
                    got = r.child("replay", 600, store=stores[size])
                    if "error" not in got:
                        what = (
                            f"replayed {got['events']} events in {got['seconds']:.1f} s"
                            f" ({got['events'] / got['seconds']:,.0f}/s)"
                        )
                if "error" in got:
                    peak[key].errors.append(got["error"])
                    r.record(f"5 {key} run {run + 1}: FAILED {got['error']}")
                    continue
                peak[key].values.append(got["peak_rss_kib"])
                base[key].values.append(got["base_rss_kib"])
                r.record(
                    f"5 {kind} run {run + 1}, log of {sizes[size]} intents: {what}; peak RSS"
                    f" {mib(got['peak_rss_kib'])}, RSS before work {mib(got['base_rss_kib'])}"
                )
    rows = []
    for kind, label in (
        ("worker", f"worker peak RSS, draining for {r.plan.window_s:g} s, by log size"),
        ("replay", "replay peak RSS, whole log, by log size (1 event per intent)"),
    ):
        keys = [f"{kind}-small", f"{kind}-large"]
        net = _net(peak[keys[0]], base[keys[0]], peak[keys[1]], base[keys[1]])
        rows.append(_growth_row(label, peak[keys[0]], peak[keys[1]], net, r))
    return rows


def list_figure(r: Runner) -> list[Row]:
    store = r.last_worker_store or r.path("log-large.db")
    p50: dict[str, Series] = {}
    p99: dict[str, Series] = {}
    counts: dict[str, int] = {}
    for run in range(r.runs):
        got = r.child("list", 600, store=store, calls=r.plan.list_calls)
        if "error" in got:
            r.record(f"6 list run {run + 1}: FAILED {got['error']}")
            for series in (*p50.values(), *p99.values()):
                series.errors.append(got["error"])
            continue
        counts = got.pop("counts")
        for name, found in got.items():
            p50.setdefault(name, Series()).values.append(found["p50_ms"])
            p99.setdefault(name, Series()).values.append(found["p99_ms"])
            r.record(
                f"6 list run {run + 1} status={name}: {found['calls']} calls, {found['rows']}"
                f" rows each; p50 {found['p50_ms']:.2f} ms, p99 {found['p99_ms']:.2f} ms"
            )
    mix = ", ".join(f"{k} {v:,}" for k, v in counts.items() if v)
    rows = []
    for name in p50:
        high = p99[name].median
        shown = "" if name == "none" else f"status={name}, "
        rows.append(
            Row("6", f"pq.list({shown}limit=100) at {sum(counts.values()):,} intents ({mix})",
                f"p50 {p50[name].median:.2f} ms, p99 {high:.2f} ms" if high is not None
                else "—", "—", "—", "p99 < 20 ms",
                verdict(None if high is None else high < 20.0), p99[name].runs())
        )  # fmt: skip
    return rows


# ---- figure 7, 8 and 9 -------------------------------------------------------------------

FLEET_COMPLETE_AFTER_S = 0.2
FLEETS: dict[str, tuple[int, int]] = {"1x8": (1, 8), "4x2": (4, 2)}  # processes, in flight


def fleet_figure(r: Runner) -> list[Row]:
    if not os.environ.get(PG_ENV):
        why = f"no PostgreSQL ({PG_ENV} unset: run through scripts/with-postgres)"
        r.notes.append(f"Figure 7 did not run: {why}.")
        return [Row("7", "worker processes on PostgreSQL", "—", why, "—", "—", "n/a", "0")]
    speed = {who: Series() for who in FLEETS}
    reads, conflicts, commits = ({who: Series() for who in FLEETS} for _ in range(3))
    kinds: dict[str, str] = dict.fromkeys(FLEETS, "—")  # commits by kind, the last run
    for run in range(r.runs):
        for who in list(FLEETS) if run % 2 == 0 else list(reversed(FLEETS)):
            procs, width = FLEETS[who]
            count = r.plan.fleet
            with vendor_sim(FLEET_COMPLETE_AFTER_S) as url:
                got = r.child("fleet-drain", 900, url=url, workers=procs, concurrency=width,
                              count=count, timeout_s=600,
                              log=r.path(f"fleet-{who}-{run}.log"))  # fmt: skip
                made = calls(url)
            if "error" not in got and got["settled"] != count:
                got = {"error": f"{who}: {got['settled']} of {count} settled ({got['statuses']})"}
            if "error" in got:
                speed[who].errors.append(got["error"])
                r.record(f"7 fleet run {run + 1} {who}: FAILED {got['error']}")
                continue
            settled = got["settled"]
            span = (got["last_settled"] or 0.0) - (got["first_claim"] or 0.0)
            speed[who].values.append(settled / span if span > 0 else 0.0)
            reads[who].values.append(made.reads / settled)
            lost = got["takeovers"] + got["rejected_rows"]
            conflicts[who].values.append(lost / count)
            commits[who].values.append(got["commits"] / settled)
            kinds[who] = ", ".join(
                f"{kind} {n / settled:.2f}" for kind, n in got["commits_by_kind"].items()
            )
            r.record(
                f"7 fleet run {run + 1}, {procs} worker process(es) x {width} in flight:"
                f" {settled} settled in {span:.1f} s from the first claim ({settled / span:.1f}/s;"
                f" {got['wall_s']:.1f} s from starting the processes); vendor calls"
                f" {made.creates} creates + {made.reads} reads + {made.lookups} lookups,"
                f" {made.duplicates} duplicates; {got['claims']} claims, {got['takeovers']}"
                f" takeovers, {got['rejected_rows']} event rows rejected;"
                f" {got['events']} events; {got['commits']} commits ({kinds[who]} per settled"
                f" intent) and {got['rollbacks']} rollbacks; {got['error_lines']} ERROR lines"
                " in the workers' logs; exit"
                f" codes {got['exit_codes']}; queued in {got['built_s']:.1f} s"
            )
    one, four = speed["1x8"], speed["4x2"]
    value = ratio(four.median, one.median)
    rows = [
        Row("7", f"PostgreSQL, {r.plan.fleet:,} queued intents drained by 4 `proofqueue worker`"
            " processes x 2 in flight, settled/s", rate(four.median),
            f"1 process x 8 in flight: {rate(one.median)}", times(value), "≥ 1.00x",
            verdict(None if value is None else value >= 1.0), f"{four.runs()} / {one.runs()}"),
    ]  # fmt: skip
    for who, label in (("4x2", "4 processes x 2"), ("1x8", "1 process x 8")):
        rd, cf, cm = reads[who].median, conflicts[who].median, commits[who].median
        rows += [
            Row("7", f"{label}: vendor job reads per settled job",
                "—" if rd is None else f"{rd:.2f}", "1.00 (one read after the job is done)",
                times(rd), "≤ 1.2", verdict(None if rd is None else rd <= 1.2),
                reads[who].runs()),
            Row("7", f"{label}: claim conflicts per intent (takeovers + saves rejected by"
                " the store)", "—" if cf is None else f"{cf:.3f}", "0", "—", "≤ 0.05",
                verdict(None if cf is None else cf <= 0.05), conflicts[who].runs()),
            Row("7", f"{label}: store commits per settled intent (events, views' catch-up,"
                " heartbeats, breaker flushes, autocommit reads)",
                "—" if cm is None else f"{cm:.2f}", f"by kind (last run): {kinds[who]}", "—",
                "≤ 2 (1 process)" if who == "1x8" else "—",
                verdict(None if cm is None else cm <= 2.0) if who == "1x8" else "info",
                commits[who].runs()),
        ]  # fmt: skip
    return rows


def breaker_figure(r: Runner) -> list[Row]:
    sizes = {"small": (100, False), "large": (r.plan.window_calls, True)}
    record = {size: Series() for size in sizes}
    flush = {size: Series() for size in sizes}
    for run in range(r.runs):
        for size in sizes if run % 2 == 0 else list(reversed(sizes)):
            calls_in, history = sizes[size]
            got = r.child("breaker-record", 300, store=r.path(f"breaker-{size}-{run}.db"),
                          window_calls=calls_in, calls=BREAKER_CALLS, history=history)  # fmt: skip
            if "error" in got:
                record[size].errors.append(got["error"])
                r.record(f"8 breaker run {run + 1} {size}: FAILED {got['error']}")
                continue
            record[size].values.append(got["median_ns"])
            flush[size].values.append(got["flush_median_ns"])
            r.record(
                f"8 breaker run {run + 1}, {got['window_calls']:,} calls in the window"
                f"{' and an hour of older seconds' if history else ''}: record median"
                f" {got['median_ns']:,.0f} ns, p99 {got['p99_ns']:,.0f} ns, mean"
                f" {got['mean_ns']:,.0f} ns over {got['calls']:,} calls ({got['flushes']}"
                f" flushes among them); flush median {got['flush_median_ns'] / 1000:,.0f} µs,"
                f" p99 {got['flush_p99_ns'] / 1000:,.0f} µs; window at the end"
                f" {got['window_after']:,} calls; breaker {got['state']}"
            )
    small, large = record["small"].median, record["large"].median
    value = ratio(large, small)
    fs, fl = flush["small"].median, flush["large"].median
    ns = lambda v: "—" if v is None else f"{v:,.0f} ns"  # noqa: E731
    us = lambda v: "—" if v is None else f"{v / 1000:,.0f} µs"  # noqa: E731
    return [
        Row("8", f"`BreakerGuard.record` (SQLite store), median per call, {r.plan.window_calls:,}"
            " calls in the shared window (+ an hour of older seconds)", ns(large),
            f"100 calls in the window: {ns(small)}", times(value), "≤ 1.50x",
            verdict(None if value is None else value <= 1.5),
            f"{record['large'].runs()} / {record['small'].runs()}"),
        Row("8", "`BreakerGuard.flush` (the store write + window read a record makes every"
            " 0.25 s), median", us(fl), f"100 calls in the window: {us(fs)}",
            times(ratio(fl, fs)), "—", "info",
            f"{flush['large'].runs()} / {flush['small'].runs()}"),
    ]  # fmt: skip


def rounds_figure(r: Runner) -> list[Row]:
    source = r.path("log-large.db")
    if not os.path.exists(source):
        built = r.child("build", 1800, store=source, count=r.plan.large)
        if "error" in built:
            return [Row("9", "worker round", "—", built["error"], "—", "—", "n/a", "0")]
        r.record(f"9 log of {r.plan.large} queued intents built in {built['save_s']:.1f} s")
    keys = ("step_held", "queries_all", "queries_quarter", "health", "count_calls")
    p50 = {key: Series() for key in keys}
    p99 = {key: Series() for key in keys}
    counts: dict[str, int] = {}
    for run in range(r.runs):
        store = copy_store(source, r.path(f"rounds-{run}.db"))
        got = r.child("rounds", 600, store=store, rounds=r.plan.rounds, calls=50)
        if "error" in got:
            for key in keys:
                p99[key].errors.append(got["error"])
            r.record(f"9 rounds run {run + 1}: FAILED {got['error']}")
            continue
        counts = got["counts"]
        for key in keys:
            p50[key].values.append(got[key]["p50_ms"])
            p99[key].values.append(got[key]["p99_ms"])
        r.record(
            f"9 rounds run {run + 1}: "
            + "; ".join(
                f"{key} p50 {got[key]['p50_ms']:.2f} ms, p99 {got[key]['p99_ms']:.2f} ms"
                for key in (*keys, "work_all", "work_quarter")
            )
            + f"; work read {got['due_rows_all']} / {got['due_rows_quarter']} due rows;"
            f" vendor calls {got['vendor_calls']}"
        )
    size = f"{sum(counts.values()):,} queued" if counts else f"{r.plan.large:,}"

    def shown(key: str) -> str:
        a, b = p50[key].median, p99[key].median
        return "—" if a is None or b is None else f"p50 {a:.2f} ms, p99 {b:.2f} ms"

    def met(key: str, limit: float) -> str:
        high = p99[key].median
        return verdict(None if high is None else high < limit)

    return [
        Row("9", f"`Worker.step`, vendor held (catch-up, heartbeat each second, breaker), at"
            f" {size} intents, {r.plan.rounds} rounds", shown("step_held"), "—", "—",
            "p99 < 2 ms", met("step_held", 2.0), p99["step_held"].runs()),
        Row("9", "a round's queries (the catch-up; one read of jobs, claims and due intents)"
            " — 1 worker, all 16 slots", shown("queries_all"), "—", "—", "p99 < 2 ms",
            met("queries_all", 2.0), p99["queries_all"].runs()),
        Row("9", "a round's queries — the first of 4 workers (4 slots)",
            shown("queries_quarter"), "—", "—", "p99 < 2 ms", met("queries_quarter", 2.0),
            p99["queries_quarter"].runs()),
        Row("9", f"`pq.health()` at {size} intents", shown("health"), "—", "—", "—", "info",
            p99["health"].runs()),
        Row("9", f"`pq.counts()` at {size} intents", shown("count_calls"), "—", "—", "—",
            "info", p99["count_calls"].runs()),
    ]  # fmt: skip


# ---- figure 10 ---------------------------------------------------------------------------


def console_figure(r: Runner) -> list[Row]:
    source = r.path("log-large.db")
    if not os.path.exists(source):
        built = r.child("build", 1800, store=source, count=r.plan.large)
        if "error" in built:
            return [Row("10", "web console", "—", built["error"], "—", "—", "n/a", "0")]
        r.record(f"10 log of {r.plan.large} queued intents built in {built['save_s']:.1f} s")
    p50: dict[str, Series] = {}
    p99: dict[str, Series] = {}
    counts: dict[str, int] = {}
    for run in range(r.runs):
        store = copy_store(source, r.path(f"console-{run}.db"))
        got = r.child("console", 600, store=store, calls=r.plan.list_calls)
        if "error" in got:
            r.record(f"10 console run {run + 1}: FAILED {got['error']}")
            for series in p99.values():
                series.errors.append(got["error"])
            continue
        counts = got.pop("counts")
        for name, found in got.items():
            p50.setdefault(name, Series()).values.append(found["p50_ms"])
            p99.setdefault(name, Series()).values.append(found["p99_ms"])
            r.record(
                f"10 console run {run + 1} {name}: {found['calls']} calls, {found['bytes']}"
                f" bytes; p50 {found['p50_ms']:.2f} ms, p99 {found['p99_ms']:.2f} ms"
            )
    size = f"{sum(counts.values()):,}" if counts else f"{r.plan.large:,}"
    reference = next((k for k in p99 if k.startswith("reference")), None)
    ref = p99[reference].median if reference else None
    rows = []
    for name in p99:
        if name == reference:
            continue
        high, low = p99[name].median, p50[name].median
        rows.append(
            Row("10", f"console: {name} at {size} intents",
                "—" if high is None or low is None else f"p50 {low:.2f} ms, p99 {high:.2f} ms",
                "—" if ref is None else f"JSON list p99 {ref:.2f} ms",
                times(ratio(high, ref)) if high is not None and ref else "—",
                "p99 < 100 ms", verdict(None if high is None else high < 100.0),
                p99[name].runs())
        )  # fmt: skip
    return rows


# ---- the page ----------------------------------------------------------------------------


# ---- figure 11 ---------------------------------------------------------------------------


def async_figure(r: Runner) -> list[Row]:
    """Concurrent async submits (group commits) against sequential sync submits."""
    concurrent, sequential = Series(), Series()
    for run in range(r.runs):
        for who in ("async", "sync") if run % 2 == 0 else ("sync", "async"):
            store = r.path(f"{who}-submit-{run}.db")
            if who == "async":
                got = r.child("async-submit", 300, store=store, count=r.plan.submits,
                              concurrency=ASYNC_CONCURRENCY)  # fmt: skip
            else:
                got = r.child("submit", 300, store=store, count=r.plan.submits)
            series = concurrent if who == "async" else sequential
            if "error" in got:
                series.errors.append(got["error"])
                r.record(f"10 {who} submit run {run + 1}: FAILED {got['error']}")
                continue
            series.values.append(got["intents"] / got["seconds"])
            extra = f" in {got['commits']} commits" if who == "async" else ""
            r.record(
                f"10 {who} submit run {run + 1}: {got['intents']} submits{extra} in"
                f" {got['seconds']:.2f} s ({got['intents'] / got['seconds']:,.0f}/s)"
            )
    value = ratio(concurrent.median, sequential.median)
    return [
        Row("11", f"{ASYNC_CONCURRENCY} concurrent `await apq.submit(...)` (AsyncProofQueue,"
            " group commits), intents/s", rate(concurrent.median),
            f"sequential `pq.submit(...)`: {rate(sequential.median)}", times(value), "≥ 3.00x",
            verdict(None if value is None else value >= 3.0),
            f"{concurrent.runs()} / {sequential.runs()}"),
    ]  # fmt: skip


def method(plan: Plan, runs: int) -> list[str]:
    return [
        f"Each figure is the median of {runs} runs; contenders' runs are interleaved, their"
        " order rotating from run to run. Each run is a fresh child process; the vendor"
        " simulator (`proofqueue vendor-sim`, no faults, complete-after"
        f" {COMPLETE_AFTER_S:g} s) runs in a process of its own, fresh for every run, so its"
        " call counts are per run and it never shares a GIL with what is measured. Stores"
        " are files in one temporary directory on the machine's disk.",
        f"1: {plan.submits} `ProofQueue(Settings(store=file)).submit` calls with no vendor"
        " URL (each returns QUEUED once its `Queued` event is committed) after 20 untimed"
        " ones; reference: the same number of sqlite3 INSERTs, one `BEGIN`/`COMMIT` each, of"
        " a row shaped like eventsourcing's `stored_events` with the mean size of the events"
        " proofqueue wrote, in WAL mode with the `synchronous` value read off"
        " eventsourcing's own connection (eventsourcing sets WAL and leaves `synchronous` at"
        " SQLite's default, FULL=2). Events per submit are counted from the notification"
        " ids.",
        f"2: {plan.e2e} intents per contender, each driven by 8 caller threads, with the same"
        " read schedule (first read 0.05 s after the create is answered, doubling up to 5 s:"
        " proofqueue's `poll_s=0.05` and its default cap). With `pq.worker()` the callers"
        " make the creates and the worker (8 in flight) the reads, so up to 16 vendor calls"
        " can be in flight; `submit(wait=60)` keeps to 8, like the references. proofqueue"
        " runs with"
        " `Settings(store=file, vendor_url=..., poll_s=0.05)`, all else default. Time: first"
        " submit to the last `Settled` event (proofqueue) or the last workflow returning."
        " DBOS: `DBOS(config={'name', 'system_database_url': 'sqlite:///<tmp>/dbos.sqlite'})`,"
        " one `@DBOS.workflow` per intent under `SetWorkflowID(request_id)`, one `@DBOS.step`"
        " for the create and one reading the job to completion, run from 8 threads.",
        f"3: {plan.drain:,} intents queued with no vendor URL (recorded with"
        " `pq.submit_many` in batches of 500, one commit each; views brought up to date),"
        " then one `pq.worker()` (8 in flight) against a healthy simulator until all are"
        f" SETTLED; {plan.drain_runs} run(s) — a drain of this size takes minutes here, so"
        " more runs do not fit the 10-minute budget. Calls from `GET /_sim/stats`.",
        "4: `pq.replay()` over the drained log of figure 3 (every view rebuilt into a fresh"
        " SQLite file) against reading the same events with"
        " `app.recorder.select_notifications` in batches of 1000 (eventsourcing's read"
        " path) and with a plain sqlite3 SELECT.",
        f"5: peak RSS (`VmHWM` of the measuring child) for logs of {plan.small:,} and"
        f" {plan.large:,} queued intents built as in 3: a worker draining a fresh copy of"
        f" the log for {plan.window_s:g} s (the same work at both sizes: draining all"
        f" {plan.large:,} would take far longer than the budget), and `pq.replay()` of the"
        " whole log.",
        f"6: {plan.list_calls} timed calls per filter per run (after 5 untimed) of `pq.list`"
        f" on the {plan.large:,}-intent log of 5 as the last worker run there left it (a"
        " backlog being drained); each call includes the catch-up check `list` does before"
        " it queries.",
        f"7: on PostgreSQL ({PG_ENV}, a throwaway server from `scripts/with-postgres`:"
        " fsync and synchronous_commit off), each run from a fresh database:"
        f" {plan.fleet:,} intents queued as in 3, then `python -m proofqueue worker`"
        " processes with PROOFQUEUE_STORE, PROOFQUEUE_VENDOR_URL and PROOFQUEUE_CONCURRENCY"
        " set (all else default: poll_s 0.5, lease_s 30) against a fresh healthy simulator"
        f" (complete-after {FLEET_COMPLETE_AFTER_S:g} s), stopped with SIGTERM once all are"
        " SETTLED; 1 process x 8 in flight against 4 processes x 2, runs interleaved."
        " Settled/s over the span from the first `AttemptStarted` to the last `Settled`"
        " event (interpreter start-up left out; the wall time from starting the processes"
        " is in every run's line). Job reads: the simulator's `get_*` calls / settled. Claim"
        " conflicts per intent: (`AttemptStarted` events with `takeover` + event rows the"
        " store rejected on optimistic concurrency, counted as the gap in the events"
        " table's `notification_id` sequence) / intents; a claim a worker abandons before"
        " saving (it reloaded the intent and found it claimed) leaves no trace and is not"
        " counted. Commits: `xact_commit` of `pg_stat_database` for the run's database"
        " after the workers exited less before they started, less the benchmark's own"
        " polls, / settled: it includes every committed transaction of the workers (events,"
        " the views' catch-up, heartbeats, breaker window flushes, autocommit reads).",
        f"8: `bootstrap(Settings(store=<SQLite file>), vendor=FakeVendor())`; `pq_calls` is"
        " filled with 100 calls spread over the window's seconds (30 s), or with"
        f" {plan.window_calls:,} calls over them plus an hour of older seconds (what"
        f" `pq_calls` keeps); then {BREAKER_CALLS:,} `guard.record(...)` calls (one in 10"
        " failed) are timed one by one with `perf_counter_ns` after 200 untimed ones, and"
        " 200 `guard.flush()` calls with one pending call each. The records are counted"
        " into the window too, so it holds about 2,300 / 32,000 calls at the end.",
        f"9: a copy of the {plan.large:,}-intent log of 5 (built here if 5 did not run)"
        " with the vendor held (`pq.hold_vendor`); a `Worker` built as `pq.run_worker`"
        f" builds it (8 in flight), {plan.rounds} timed `worker.step(pool, 8)` rounds after"
        " 5 untimed; then a round's queries timed as one (`views.catch_up()`,"
        " `views.work(now, 32, slots)`: the jobs to follow, the claims and 32 due intents"
        " in one read) with all 16 slots and with the 4 slots of the first of 4 workers;"
        " then 50 calls each of `pq.health()` and `pq.counts()` (each catches up first).",
        f"10: the {plan.large:,}-intent log of 5 (built here if 5 did not run), copied;"
        f" {plan.list_calls} timed requests per fragment per run (after 5 untimed) through"
        " the ASGI app in process (`httpx.ASGITransport`: the guard, the token check, the"
        " store queries, the rendering; no network), with an operator token; reference: the"
        " JSON API's `GET /intents?limit=50` on the same store.",
        f"11: {plan.submits} submits on a fresh SQLite file with no vendor URL (each answered"
        " QUEUED once its `Queued` event is committed), after 20 untimed ones: by"
        f" {ASYNC_CONCURRENCY} coroutines each awaiting `AsyncProofQueue.submit` one after"
        " another (so 50 in flight at every moment; concurrent submits share group commits),"
        " against one caller making sequential `ProofQueue.submit` calls (as in 1). Each in a"
        " child process of its own, interleaved.",
    ]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller numbers (2-3 minutes)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--drain-runs", type=int, help="runs of the backlog drain")
    parser.add_argument("--only", help="comma-separated figures to run (e.g. 7,8,9); writes"
                        " no file unless --out is given")  # fmt: skip
    parser.add_argument("--out", type=Path, help="where to write the page (default: "
                        "bench/last-run.md for a full run, nowhere for --quick)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.figures = FIGURES
    if args.only:
        args.figures = tuple(f.strip() for f in args.only.split(",") if f.strip())
        if not args.figures or any(f not in FIGURES for f in args.figures):
            parser.error(f"--only takes figures among {','.join(FIGURES)}")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    plan = QUICK if args.quick else FULL
    if args.drain_runs:
        plan = dataclasses.replace(plan, drain_runs=args.drain_runs)
    out: Path | None = args.out or (None if args.quick or args.only else DEFAULT_OUT)
    when = datetime.now(UTC).replace(microsecond=0).isoformat()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="proofqueue-bench-") as tmp:
        r = Runner(plan, args.runs, Path(tmp))
        machine = describe(tmp)
        rows: list[Row] = []
        phases: list[tuple[str, str, Callable[[Runner], list[Row]]]] = [
            ("1", "1 durable submit", submit_figure),
            ("2", "2 end to end", e2e_figure),
            ("3", "3 backlog drain", drain_figure),
            ("4", "4 replay", replay_figure),
            ("5", "5 peak memory", memory_figure),
            ("6", "6 list latency", list_figure),
            ("7", "7 worker processes on PostgreSQL", fleet_figure),
            ("8", "8 breaker record", breaker_figure),
            ("9", "9 worker round at a large backlog", rounds_figure),
            ("10", "10 web console", console_figure),
            ("11", "11 async submits", async_figure),
        ]
        for figure, name, body in phases:
            if figure in args.figures:
                rows += r.phase(name, lambda body=body: body(r))
    took = time.monotonic() - r.started
    machine["load average (1, 5, 15 min)"] = f"at start {load_before}; at end {load_average()}"
    page = Page(
        title=f"proofqueue benchmark ({plan.name} run)",
        when=when,
        command=" ".join(["python -m bench.run", *argv]).strip(),
        duration=f"{took / 60:.1f} min ({'; '.join(r.phases)})",
        machine=machine,
        rows=rows,
        method=[
            line
            for line in method(plan, args.runs)
            if not line[0].isdigit() or line.split(":")[0] in args.figures
        ],
        runs=r.page_runs,
        notes=r.notes,
    )
    text = render(page)
    print(text)
    if out is not None:
        out.write_text(text)
        r.say(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
