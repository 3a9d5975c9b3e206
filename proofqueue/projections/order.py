"""The log's order, as the views follow it: what each aggregate's last applied event was,
and what the last applied notification was, so a log rewritten under the views is noticed.

    pq_heads   aggregate id -> version and notification id of its last applied event
    pq_tail    the views' last applied notification: its id, aggregate, version, digest

Within an aggregate the versions follow the log's order (each save of an aggregate's next
event needs the one before it committed; PostgreSQL's table lock makes ids follow commit
order; SQLite has one writer). So an event whose version is not its aggregate's last
applied one plus one was moved, deleted or reordered: the catch-up records it in
``pq_damaged`` naming the notification, and the aggregate is isolated like any damaged
one. The catch-up also re-reads the last notification it applied: gone (the newest event
was deleted) or changed (its id reused by a later insert, as SQLite does once the highest
row is deleted) is named against the aggregate it was, and the new event is applied.

Gaps: SQLite gives each insert the highest id plus one and a rolled-back insert leaves no
hole, so a gap between ids there means events were deleted. PostgreSQL's sequence skips
the ids of rolled-back inserts (every lost race to record an event does), so a gap there
is normal and never named.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from proofqueue.projections import damage
from proofqueue.projections.damage import Damaged, aggregate_key
from proofqueue.projections.store import Cursor, ViewDB

LOG = "(log)"  # the aggregate named by a finding about the log itself (a gap)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS pq_heads (
        aggregate_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        notification_id BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS pq_tail (
        name TEXT PRIMARY KEY,
        notification_id BIGINT NOT NULL,
        aggregate_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        digest TEXT NOT NULL)""",
)
GONE = "gone"  # pq_tail.digest once the tail's event was found gone (named once)


@dataclass(frozen=True)
class Tail:
    """The last notification the views applied (or skipped as damaged)."""

    notification_id: int
    aggregate_id: str
    version: int
    digest: str


def digest(note: Any) -> str:
    """A digest of one stored event: its aggregate, version, topic and stored state."""
    head = f"{aggregate_key(note.originator_id)}|{int(note.originator_version)}|{note.topic}|"
    state = note.state  # bytes, or what a damaged SQLite row holds instead (TEXT, NULL)
    raw = state if isinstance(state, bytes) else str(state).encode("utf-8", "surrogatepass")
    return hashlib.sha256(head.encode() + raw).hexdigest()[:32]


def tail_of(note: Any) -> Tail:
    return Tail(
        int(note.id), aggregate_key(note.originator_id), int(note.originator_version), digest(note)
    )


def has_tables(db: ViewDB) -> bool:
    if db.dialect == "postgres":
        rows = db.query("SELECT to_regclass('pq_tail') IS NOT NULL AS found")
    else:
        rows = db.query(
            "SELECT COUNT(*) > 0 AS found FROM sqlite_master WHERE type = 'table'"
            " AND name = 'pq_tail'"
        )
    return bool(rows and rows[0]["found"])


TAIL = "SELECT * FROM pq_tail WHERE name = ?"


def read_tail(cur: Cursor, name: str) -> Tail | None:
    return tail_of_row(cur.one(TAIL, (name,)))


def tail_of_row(row: dict[str, Any] | None) -> Tail | None:
    """The ``Tail`` a row of pq_tail holds; None for no row."""
    if row is None:
        return None
    return Tail(
        int(row["notification_id"]), str(row["aggregate_id"]), int(row["version"]), row["digest"]
    )


def write_tail(cur: Cursor, name: str, tail: Tail) -> None:
    cur.run(
        "INSERT INTO pq_tail (name, notification_id, aggregate_id, version, digest)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
        " notification_id = excluded.notification_id, aggregate_id = excluded.aggregate_id,"
        " version = excluded.version, digest = excluded.digest",
        (name, tail.notification_id, tail.aggregate_id, tail.version, tail.digest),
    )


def heads(cur: Cursor, aggregate_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(version, notification id) of the last applied event of each aggregate that has one."""
    if not aggregate_ids:
        return {}
    marks = ", ".join("?" for _ in aggregate_ids)
    rows = cur.all(
        "SELECT aggregate_id, version, notification_id FROM pq_heads"  # noqa: S608  (placeholders)
        f" WHERE aggregate_id IN ({marks})",
        tuple(aggregate_ids),
    )
    return {str(r["aggregate_id"]): (int(r["version"]), int(r["notification_id"])) for r in rows}


def write_heads(cur: Cursor, moved: dict[str, tuple[int, int]]) -> None:
    cur.many(
        "INSERT INTO pq_heads (aggregate_id, version, notification_id) VALUES (?, ?, ?)"
        " ON CONFLICT (aggregate_id) DO UPDATE SET version = excluded.version,"
        " notification_id = excluded.notification_id",
        # in key order: each page of the index is visited once
        [(key, version, number) for key, (version, number) in sorted(moved.items())],
    )


def head_rows(db: ViewDB, page: int = 1000) -> Iterator[list[tuple[str, int, int]]]:
    """Every aggregate's last applied (aggregate id, version, notification id), a page at
    a time."""
    after = ""
    while True:
        rows = db.query(
            "SELECT aggregate_id, version, notification_id FROM pq_heads"
            " WHERE aggregate_id > ? ORDER BY aggregate_id LIMIT ?",
            (after, page),
        )
        if rows:
            yield [
                (str(r["aggregate_id"]), int(r["version"]), int(r["notification_id"])) for r in rows
            ]
        if len(rows) < page:
            return
        after = str(rows[-1]["aggregate_id"])


# -- findings --------------------------------------------------------------------------------


def out_of_order(note: Any, last: int) -> Damaged:
    """An event whose version does not follow its aggregate's last applied one."""
    return misplaced(
        int(note.id), aggregate_key(note.originator_id), int(note.originator_version), last
    )


def misplaced(number: int, key: str, version: int, last: int) -> Damaged:
    """Event ``version`` of ``key`` at notification ``number``, after event ``last``."""
    if version <= last:
        why = f"event {version} again after event {last} (its notification id was reused or moved)"
    else:
        missing = "event" if version == last + 2 else "events"
        span = str(last + 1) if version == last + 2 else f"{last + 1} to {version - 1}"
        why = f"event {version} follows event {last}: {missing} {span} not before it in the log"
    return Damaged(number, key, version, f"out of log order at notification {number}: {why}")


def gone(tail: Tail, now_holds: Any | None) -> Damaged:
    """The views' last applied event is no longer in the log at its notification id."""
    if now_holds is None:
        what = "it is gone from the log (deleted)"
    else:
        what = (
            f"the id now holds event {int(now_holds.originator_version)} of"
            f" {aggregate_key(now_holds.originator_id)} (the event was deleted and its id reused)"
        )
    return Damaged(
        tail.notification_id,
        tail.aggregate_id,
        tail.version,
        f"notification {tail.notification_id} was this event when the views applied it; {what}",
    )


def gap(first: int, last: int) -> Damaged:
    """Notifications missing on SQLite, which leaves no gaps: deleted events."""
    span = f"notification {first} is" if first == last else f"notifications {first} to {last} are"
    return Damaged(
        first, LOG, 0, f"{span} missing from the log (SQLite leaves no gaps: events were deleted)"
    )


def gaps(previous: int, ids: Iterable[int]) -> list[Damaged]:
    """The holes in a run of notification ids that follows ``previous``."""
    found = []
    for current in ids:
        if current > previous + 1:
            found.append(gap(previous + 1, current - 1))
        previous = max(previous, current)
    return found


def describe(db: ViewDB, findings: Sequence[Damaged]) -> list[str]:
    """One line per finding, naming the intent by its request_id where the views know it."""
    names = {item["aggregate_id"]: item["intent"] for item in damage.listing(db, 100_000)}
    lines = []
    for item in findings:
        if item.aggregate_id == LOG:
            lines.append(f"the log: {item.reason}")
        else:
            name = names.get(item.aggregate_id, item.aggregate_id)
            lines.append(f"the log: {name!r} event {item.version}: {item.reason}")
    return lines


# -- verify's checks of the log's order: each streams, memory stays flat ---------------------


def aggregate_order(key: str, events: Sequence[tuple[int, int]]) -> Damaged | None:
    """One aggregate's events as (notification id, version), in version order: the first
    that a walk of the log in id order finds out of order (a version that does not follow
    the one before it), or None. Reading by id as well as by version is only needed when
    the ids do not already rise with the versions 1, 2, 3..."""
    if all(version == n for n, (_, version) in enumerate(events, 1)) and all(
        a < b for (a, _), (b, _) in itertools.pairwise(events)
    ):
        return None
    last = 0
    for number, version in sorted(events):
        if version != last + 1:
            return misplaced(number, key, version, last)
        last = version
    return None


def heads_findings(
    pages: Iterable[Sequence[tuple[str, int, int]]],
    events_at: Callable[[Sequence[int]], dict[int, tuple[str, int]]],
    notification_of: Callable[[str, int], int | None],
) -> list[Damaged]:
    """Whether the log still holds each views' last applied event (aggregate id, version,
    notification id) at the id it had: one read per page, one more per event not found."""
    findings = []
    for page in pages:
        found = events_at([number for _, _, number in page])
        for key, version, number in page:
            at = found.get(number)
            if at is not None and (aggregate_key(at[0]), at[1]) == (key, version):
                continue
            now = notification_of(key, version)
            if now == number:
                continue
            where = "it is not in the log now" if now is None else f"it is notification {now}"
            findings.append(
                Damaged(
                    number,
                    key,
                    version,
                    f"notification {number} was this event when the views applied it; {where}",
                )
            )
    return findings


def log_is_sqlite(recorder: Any) -> bool:
    """Gaps are damage only in a SQLite log (PostgreSQL's sequence skips ids)."""
    return "sqlite" in type(recorder).__module__
