"""Applying a batch of events at once, with the same result as ``views.apply_event`` on
each in turn.

The intents a batch touches are read in one query, its intent events are applied to those
rows in memory, in log order (their status counts, counters and transparency leaves too),
and the rows are written back with one ``executemany`` per statement: a few statements per
batch instead of four or five per event. Breaker and checkpoint events (in tables of their
own) go to ``breaker_batch``: transitions batched, the rare others one by one.

Anything the one-by-one path would refuse (an intent queued twice, a request_id taken,
a tree node missing) raises here too, so the caller can fall back to applying the batch
one event at a time and isolate the event that fails.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from pydantic import TypeAdapter

from proofqueue.domain import merkle
from proofqueue.domain.intent import Intent
from proofqueue.domain.receipt import Receipt
from proofqueue.projections import rows, series, tlog
from proofqueue.projections.breaker_batch import Breakers
from proofqueue.projections.store import Cursor

COLUMNS = (
    "intent_id", "request_id", "status", "sort_rank", "actor", "target", "attempts",
    "last_error", "next_attempt_at", "claim_until", "queued_at", "updated_at", "job_id",
    "deliverable_id", "settled_at", "version", "job_note",
)  # fmt: skip
CHUNK = 500  # ids per IN (...) query, well under every store's limit on parameters

INSERT_ROW = (  # an intent's row
    f"INSERT INTO pq_intents ({', '.join(COLUMNS)})"  # noqa: S608  (fixed column names)
    f" VALUES ({', '.join('?' for _ in COLUMNS)})"
)
INSERT_TLOG_INTENT = "INSERT INTO pq_tlog_intents (intent_id, queued_at) VALUES (?, ?)"
_UPDATE = (
    f"UPDATE pq_intents SET {', '.join(f'{c} = ?' for c in COLUMNS[2:])}"  # noqa: S608
    " WHERE intent_id = ?"
)


_NAMES = ", ".join(COLUMNS)
_ALL = itemgetter(*COLUMNS)
_CHANGING = itemgetter(*COLUMNS[2:])


class Refused(Exception):
    """The batch holds an event the one-by-one path would refuse: apply it one by one."""


def apply_batch(
    cur: Cursor, events: Sequence[tuple[str, Any]], fresh: Collection[str] = ()
) -> None:
    """Apply ``events`` (each ``(str(originator_id), event)``, decoded, in log order) as
    ``apply_event`` would one by one. ``fresh``: intents known to have no rows yet (not
    looked up)."""
    keys = sorted(
        {key for key, event in events if key not in fresh and isinstance(event, _INTENT_EVENTS)}
    )
    batch = _Batch(cur, keys)
    breakers = Breakers(cur)
    for key, event in events:
        if isinstance(event, _INTENT_EVENTS):
            batch.apply(key, event)
        else:
            breakers.apply(key, event)
    breakers.write()
    batch.write()


_INTENT_EVENTS = (Intent.Event, Intent.Created)
_QUEUED = Intent.Queued
_SUBMITTED = Intent.Submitted
_TERMINAL = (Intent.Settled, Intent.Failed)
_TEXT = ("request_id", "actor", "target", "proof")
_OPTIONAL_TEXT = ("job_id", "deliverable_id")
_TIME_JSON = TypeAdapter(datetime).serializer.to_python  # as a Receipt's JSON writes times


def leaf_of(row: dict[str, Any], queued_at: str, settled_at: datetime | None, proof: str) -> bytes:
    """The transparency leaf of an intent's terminal event: ``tlog.leaf_of`` of the
    ``Receipt`` its row (as the event left it) gives. The usual receipt (text where the
    model wants text, all of it UTF-8) is written without making the model: the same
    values, its times written by the model's own serializer. ``settled_at``: the Settled
    event's time (None for Failed); ``queued_at``: the Queued event's time (ISO 8601)."""
    settled = settled_at is not None
    fields: dict[str, Any] = {
        "request_id": row["request_id"],
        "actor": row["actor"],
        "target": row["target"],
        "status": "SETTLED" if settled else "FAILED",
        "attempts": int(row["attempts"]),
        "job_id": row["job_id"],
        "deliverable_id": row["deliverable_id"] if settled else None,
        "queued_at": datetime.fromisoformat(queued_at),
        "settled_at": settled_at,
        "proof": proof,
    }
    if all(type(fields[k]) is str for k in _TEXT) and all(
        fields[k] is None or type(fields[k]) is str for k in _OPTIONAL_TEXT
    ):
        document = {
            **fields,
            "queued_at": _TIME_JSON(fields["queued_at"], mode="json"),
            "settled_at": _TIME_JSON(settled_at, mode="json") if settled else None,
        }
        flat = tlog.flat_jcs(document)
        if flat is not None:
            return flat
    return tlog.leaf_of(Receipt(**fields))  # anything unusual: as the model has it


class _Batch:
    def __init__(self, cur: Cursor, keys: list[str]) -> None:
        self.cur = cur
        self.rows: dict[str, dict[str, Any]] = {}
        self.queued_at: dict[str, str] = {}  # pq_tlog_intents, as known
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            marks = ", ".join("?" for _ in chunk)
            for row in cur.all(
                f"SELECT {_NAMES} FROM pq_intents WHERE intent_id IN ({marks})",  # noqa: S608
                chunk,
            ):
                self.rows[str(row["intent_id"])] = row  # exactly COLUMNS
            for row in cur.all(
                "SELECT intent_id, queued_at FROM pq_tlog_intents"  # noqa: S608
                f" WHERE intent_id IN ({marks})",
                chunk,
            ):
                self.queued_at[str(row["intent_id"])] = str(row["queued_at"])
        self.existing = set(self.rows)
        self.changed: set[str] = set()
        self.new_tlog: list[tuple[str, str]] = []
        self.entered: dict[str, int] = {}
        self.left: dict[str, int] = {}
        self.leaves: list[tuple[int, str, str]] = []
        self.nodes: dict[tuple[int, int], str] = {}
        self.size: int | None = None
        self.tally = series.Tally()

    def apply(self, key: str, event: Any) -> None:
        row = self.rows.get(key)
        kind = type(event)
        if kind is _QUEUED:
            if row is not None or key in self.queued_at:
                raise Refused(f"intent {key} queued twice")
            at = event.timestamp.timestamp()
            row = {
                "intent_id": key, "request_id": event.request_id, "status": "QUEUED",
                "sort_rank": 0, "actor": event.actor, "target": event.target, "attempts": 0,
                "last_error": None, "next_attempt_at": at, "claim_until": None,
                "queued_at": at, "updated_at": at, "job_id": None, "deliverable_id": None,
                "settled_at": None, "version": 1, "job_note": None,
            }  # fmt: skip
            self.rows[key] = row
            iso = event.timestamp.isoformat()
            self.queued_at[key] = iso
            self.new_tlog.append((key, iso))
            self.changed.add(key)
            self.tally.entered_backlog(at)  # ``Tally.add`` of a Queued event
            self.entered["QUEUED"] = self.entered.get("QUEUED", 0) + 1
            return
        if row is None:
            return  # no row to change (its Queued event is not in the log): as one by one
        before = row["status"]
        claimed = row["claim_until"] is not None
        change = rows.CHANGES.get(kind)
        if change is not None:
            change(row, event)
        else:
            rows.change(row, event)
        self.changed.add(key)
        after = row["status"]
        crossed = (before in series.OPEN) != (after in series.OPEN)  # in or out of the backlog
        if claimed or crossed or isinstance(event, _SUBMITTED):
            self.tally.add(event, before, claimed, after)  # counters and the backlog's moves
        if before != after:
            if before:
                self.left[before] = self.left.get(before, 0) + 1
            self.entered[after] = self.entered.get(after, 0) + 1
        if isinstance(event, _TERMINAL) and key in self.queued_at:
            self._leaf(key, row, event)

    def _leaf(self, key: str, row: dict[str, Any], event: Any) -> None:
        settled = isinstance(event, Intent.Settled)
        leaf = leaf_of(row, self.queued_at[key], event.timestamp if settled else None, event.hash)
        if self.size is None:
            self.size = tlog.size(self.cur)
        index = self.size + len(self.leaves)
        self.leaves.append((index, key, leaf.decode("utf-8")))
        digest = merkle.leaf_hash(leaf)
        level, i = 0, index
        self.nodes[(0, i)] = digest.hex()
        while i & 1:
            left = self._node(level, i - 1)
            digest = merkle.node_hash(bytes.fromhex(left), digest)
            level, i = level + 1, i >> 1
            self.nodes[(level, i)] = digest.hex()

    def _node(self, level: int, index: int) -> str:
        found = self.nodes.get((level, index))
        if found is not None:
            return found
        row = self.cur.one(
            "SELECT hash FROM pq_tlog_nodes WHERE level = ? AND idx = ?", (level, index)
        )
        if row is None:
            raise LookupError(f"the tree's node cache lacks node ({level}, {index})")
        return str(row["hash"])

    def write(self) -> None:
        cur = self.cur.raw
        sql = self.cur.db.sql
        self.tally.write(self.cur)
        # in key order: each page of a key's index is visited once
        inserts = sorted(key for key in self.changed if key not in self.existing)
        if inserts:
            cur.executemany(sql(INSERT_ROW), [_ALL(self.rows[k]) for k in inserts])
        updates = sorted(key for key in self.changed if key in self.existing)
        if updates:
            cur.executemany(
                sql(_UPDATE),
                [(*_CHANGING(self.rows[k]), k) for k in updates],
            )
        for status in sorted(set(self.entered) | set(self.left)):
            delta = self.entered.get(status, 0) - self.left.get(status, 0)
            if status in self.entered:
                self.cur.run(
                    "INSERT INTO pq_counts (status, n) VALUES (?, ?)"
                    " ON CONFLICT (status) DO UPDATE SET n = pq_counts.n + ?",
                    (status, delta, delta),
                )
            else:
                self.cur.run("UPDATE pq_counts SET n = n + ? WHERE status = ?", (delta, status))
        if self.new_tlog:
            cur.executemany(
                sql(INSERT_TLOG_INTENT),
                sorted(self.new_tlog),
            )
        if self.leaves:
            cur.executemany(
                sql("INSERT INTO pq_tlog_leaves (idx, intent_id, leaf) VALUES (?, ?, ?)"),
                self.leaves,
            )
            cur.executemany(
                sql("INSERT INTO pq_tlog_nodes (level, idx, hash) VALUES (?, ?, ?)"),
                [(level, idx, digest) for (level, idx), digest in self.nodes.items()],
            )
