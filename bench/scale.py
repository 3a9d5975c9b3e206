"""``make bench-scale``: proofqueue at a million intents, each figure beside its reference,
in one run. Prints a table and writes ``bench/last-scale.md``.

    .venv/bin/python -m bench.scale                 # 1,000,000 intents (long: see the page)
    .venv/bin/python -m bench.scale --intents 20000 # a quick look; writes no file

The log (``bench.scale_log``): every intent queued, one in ten also claimed, submitted and
settled (some retried or failed on the way), and one breaker with 50,000 transitions; a
second log a tenth that size gives verify's memory growth. Each measurement runs in a
process of its own (``bench.child``), once (these are single runs, not medians).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import ROOT, describe, load_average
from bench.report import Page, Row, render
from bench.run import FULL, Runner
from bench.stats import ratio

OUT = ROOT / "bench" / "last-scale.md"


def _rate(events: int, seconds: float) -> str:
    return f"{events / seconds:,.0f}/s"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _ms(found: dict[str, float]) -> str:
    return f"p50 {found['p50_ms']:.2f} ms, p99 {found['p99_ms']:.2f} ms"


def measure(r: Runner, intents: int, transitions: int, submits: int, calls: int) -> list[Row]:
    large, small = r.path("large.db"), r.path("small.db")
    rows: list[Row] = []
    for path, n, t in ((large, intents, transitions), (small, intents // 10, transitions // 10)):
        built = r.child("scale-build", 7200, store=path, intents=n, transitions=t)
        r.say(f"built {path}: {built}")
        caught = r.child("scale-catch-up", 7200, store=path)
        r.say(f"caught up: {caught}")
        if path == large:
            rows.append(
                Row(
                    "S1",
                    f"live views' catch-up, {caught['events']:,} events",
                    _rate(caught["events"], caught["seconds"]),
                    "",
                    "",
                    "",
                    "info",
                    "1",
                )
            )
    read = r.child("raw-read", 3600, store=large)
    replayed = r.child("replay", 7200, store=large)
    r.say(f"read {read}; replay {replayed}")
    value = ratio(replayed["events"] / replayed["seconds"], read["events"] / read["seconds"])
    rows.append(
        Row(
            "S2",
            f"replay (every view rebuilt), {replayed['events']:,} events",
            _rate(replayed["events"], replayed["seconds"]),
            f"select_notifications, batches of 1000: {_rate(read['events'], read['seconds'])}",
            f"{value:.2f}x",
            ">= 0.5x",
            _verdict(value >= 0.5),
            "1",
        )
    )
    rows.append(
        Row(
            "S2",
            "decoding every event (strict mapper), no views",
            _rate(read["events"], read["decode_seconds"]),
            "the same read",
            f"{read['seconds'] / read['decode_seconds']:.2f}x",
            "",
            "info",
            "1",
        )
    )
    floor = r.child("scale-view-writes", 7200, store=large)
    r.say(f"view writes {floor}")
    rows.append(
        Row(
            "S2",
            f"a floor: each intent's view rows (row, head, tree entry) written by sqlite3"
            f" alone, in replay's batches ({floor['chunk']:,} intents), nothing decoded",
            _rate(floor["events"], floor["seconds"]),
            "the same read",
            f"{read['seconds'] / floor['seconds']:.2f}x",
            "",
            "info",
            "1",
        )
    )
    big = r.child("scale-verify", 7200, store=large)
    little = r.child("scale-verify", 7200, store=small)
    r.say(f"verify {big}; {little}")
    growth = (big["peak_rss_kib"] - little["peak_rss_kib"]) / little["peak_rss_kib"]
    rows.append(
        Row(
            "S3",
            f"verify --all, {big['events']:,} events ({big['intents']:,} chains)",
            f"{big['seconds']:.1f} s ({_rate(big['events'], big['seconds'])}), peak RSS"
            f" {big['peak_rss_kib'] / 1024:.1f} MiB",
            f"{little['events']:,} events: peak RSS {little['peak_rss_kib'] / 1024:.1f} MiB",
            f"+{growth:.1%}",
            "RSS growth < 20%",
            _verdict(growth < 0.2 and big["ok"]),
            "1",
        )
    )
    seeded = r.child("scale-breaker", 600, store=large)
    whole = r.child("scale-breaker", 600, store=large, whole=True)
    r.say(f"breaker {seeded}; whole {whole}")
    rows.append(
        Row(
            "S4",
            f"breaker's first load in a new process, {seeded['version']:,} events",
            f"{seeded['ms']:.2f} ms, +{seeded['rss_kib'] / 1024:.1f} MiB RSS",
            f"every event read: {whole['ms']:.0f} ms, +{whole['rss_kib'] / 1024:.1f} MiB",
            f"{whole['ms'] / seeded['ms']:.0f}x faster",
            "< 10 ms",
            _verdict(seeded["ms"] < 10),
            "1",
        )
    )
    reads = r.child("scale-reads", 1800, store=large, calls=calls)
    r.say(f"reads {reads}")
    for key, label in (
        ("health", f"health ({reads['transitions']:,} breaker events)"),
        ("counts", "counts"),
        ("list_first", "list, first page (100 rows)"),
        ("list_cursor_deep", "list, a page 50,000 rows deep by cursor"),
    ):
        found = reads[key]
        reference = (
            _ms(reads["list_offset_deep"]) + " by offset" if key == "list_cursor_deep" else ""
        )
        rows.append(
            Row(
                "S5",
                f"{label} at {reads['intents']:,} intents",
                _ms(found),
                reference,
                "",
                "p99 < 20 ms",
                _verdict(found["p99_ms"] < 20),
                f"{calls} calls",
            )
        )
    rows += submit_rows(r, submits)
    return rows


def submit_rows(r: Runner, submits: int) -> list[Row]:
    one = r.child("submit", 600, store=r.path("submit-1.db"), count=submits)
    raw = r.child(
        "raw-insert",
        600,
        path=r.path("raw.db"),
        count=submits,
        state_bytes=int(one["state_bytes"]),
        topic_bytes=int(one["topic_bytes"]),
        synchronous=one["synchronous"],
    )
    single = r.child(
        "scale-concurrent", 600, store=r.path("submit-c1.db"), count=submits, threads=1
    )
    eight = r.child("scale-concurrent", 600, store=r.path("submit-c8.db"), count=submits, threads=8)
    r.say(f"submit {one}; raw {raw}; 1 thread {single}; 8 threads {eight}")
    mine, theirs = one["intents"] / one["seconds"], raw["rows"] / raw["seconds"]
    solo, group = single["intents"] / single["seconds"], eight["intents"] / eight["seconds"]
    cpu_one = one["cpu_seconds"] / one["intents"] * 1e6
    cpu_eight = eight["cpu_seconds"] / eight["intents"] * 1e6
    wall_solo = single["seconds"] / single["intents"] * 1e6
    raw_wall = raw["seconds"] / raw["rows"] * 1e6
    raw_cpu = raw["cpu_seconds"] / raw["rows"] * 1e6
    return [
        Row(
            "S6",
            "durable submit, one caller",
            f"{mine:,.0f}/s",
            f"raw sqlite3, one row per commit (WAL, synchronous={raw['synchronous']}, as"
            f" proofqueue's connection): {theirs:,.0f}/s",
            f"{mine / theirs:.2f}x",
            ">= 0.5x",
            _verdict(mine / theirs >= 0.5),
            "1",
        ),
        Row(
            "S6",
            "durable submit, 8 threads at once (group commit)",
            f"{group:,.0f}/s ({eight['commits']:,} commits for {eight['intents']:,} submits)",
            f"1 thread: {solo:,.0f}/s",
            f"{group / solo:.2f}x",
            ">= 2x",
            _verdict(group / solo >= 2),
            "1",
        ),
        Row(
            "S6",
            "CPU a durable submit costs (user + system), one caller",
            f"{cpu_one:.0f} µs of {1e6 / mine:.0f} µs",
            f"a raw one-row commit: {raw_cpu:.0f} µs CPU of {raw_wall:.0f} µs",
            f"0.5x needs <= {2 * raw_wall:.0f} µs a submit",
            "",
            "info",
            "1",
        ),
        Row(
            "S6",
            "CPU a submit costs with 8 threads at once (one interpreter: its ceiling)",
            f"{cpu_eight:.0f} µs",
            f"1 thread: {wall_solo:.0f} µs a submit",
            f"at most {wall_solo / cpu_eight:.2f}x",
            "",
            "info",
            "1",
        ),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--intents", type=int, default=1_000_000)
    parser.add_argument("--transitions", type=int, default=50_000)
    parser.add_argument("--submits", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=200, help="timed calls per read")
    parser.add_argument("--out", type=Path, help="where to write the page")
    args = parser.parse_args(argv)
    out = args.out or (OUT if args.intents >= 1_000_000 else None)
    when = datetime.now(UTC).replace(microsecond=0).isoformat()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="proofqueue-scale-") as tmp:
        r = Runner(FULL, 1, Path(tmp))
        machine = describe(tmp)
        rows = measure(r, args.intents, args.transitions, args.submits, args.calls)
    took = time.monotonic() - r.started
    machine["load average (1, 5, 15 min)"] = f"at start {load_before}; at end {load_average()}"
    page = Page(
        title="proofqueue at scale (make bench-scale)",
        when=when,
        command=" ".join(["python -m bench.scale", *argv]).strip(),
        duration=f"{took / 60:.1f} min",
        machine=machine,
        rows=rows,
        method=[line.strip() for line in (__doc__ or "").split("\n\n")[2:]],
    )
    text = render(page)
    print(text)
    if out is not None:
        out.write_text(text)
        r.say(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
