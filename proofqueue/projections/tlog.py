"""The transparency tree over terminal receipts, and the checkpoints recorded in the log.

    pq_tlog_intents      intent_id -> queued_at (ISO 8601, exactly as the receipt shows it)
    pq_tlog_leaves       idx -> the leaf: RFC 8785 (JCS) bytes of the receipt an intent had
                         when it became SETTLED or FAILED (without ``tlog_proof``)
    pq_tlog_nodes        (level, idx) -> hash of the complete, aligned subtree over leaves
                         idx * 2**level .. (idx + 1) * 2**level - 1; level 0 is the leaf hash
    pq_tlog_checkpoints  (origin, seq) -> size, root, the signed note, when it was recorded

Leaves are appended in log order (the order the views apply events), so a rebuild from
the log (``replay``) makes the same tree. Appending a leaf writes its hash and each
subtree it completes (amortized two rows); a root or a proof at any size reads only the
O(log n) complete subtrees RFC 6962's recursion asks for.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785

from proofqueue.domain import merkle
from proofqueue.domain.intent import Intent
from proofqueue.domain.receipt import Receipt, receipt_json
from proofqueue.domain.transparency_log import TransparencyLog
from proofqueue.projections.store import Cursor, ViewDB

PROOF_FIELD = "tlog_proof"

TABLES = ("pq_tlog_intents", "pq_tlog_leaves", "pq_tlog_nodes", "pq_tlog_checkpoints")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS pq_tlog_intents (
        intent_id TEXT PRIMARY KEY,
        queued_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS pq_tlog_leaves (
        idx BIGINT PRIMARY KEY,
        intent_id TEXT NOT NULL,
        leaf TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS pq_tlog_leaves_intent ON pq_tlog_leaves (intent_id, idx)",
    """CREATE TABLE IF NOT EXISTS pq_tlog_nodes (
        level INTEGER NOT NULL,
        idx BIGINT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (level, idx))""",
    """CREATE TABLE IF NOT EXISTS pq_tlog_checkpoints (
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        size BIGINT NOT NULL,
        root TEXT NOT NULL,
        note TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (origin, seq))""",
)


def receipt_leaf(receipt: Mapping[str, Any]) -> bytes:
    """The log leaf of a receipt (its JSON form): RFC 8785 bytes, without ``tlog_proof``.
    The same rule as ``proofqueue.offline.receipt_leaf``, which a verifier uses."""
    document = {k: v for k, v in receipt.items() if k != PROOF_FIELD}
    fast = _flat_jcs(document)
    return fast if fast is not None else rfc8785.dumps(document)


_SAFE_INT = 2**53 - 1
_SORTED: Callable[[Any], bytes] | None
try:
    from msgspec.json import Encoder

    _SORTED = Encoder(order="sorted").encode
except ImportError:  # pragma: no cover  (the standard library's encoder only)
    _SORTED = None


def flat_jcs(document: Mapping[str, Any]) -> bytes | None:
    """RFC 8785 bytes of a flat object (``receipt_leaf``'s usual case), or None."""
    return _flat_jcs(document)


def _flat_jcs(document: Mapping[str, Any]) -> bytes | None:
    """RFC 8785 bytes of a flat object of ASCII keys and text, whole numbers within
    IEEE 754's exact range, booleans and nulls, by the standard library's encoder (which
    escapes exactly as RFC 8785 does for these: ``\\``, ``\"``, ``\b\f\n\r\t``,
    other controls as lowercase ``\\u00xx``, nothing else); None for anything else
    (the rfc8785 package encodes it)."""
    for key, value in document.items():
        if not key.isascii():
            return None
        kind = type(value)
        if kind is int:
            if -_SAFE_INT <= value <= _SAFE_INT:
                continue
            return None
        if value is None or kind is str or kind is bool:
            continue
        return None
    if _SORTED is not None:  # msgspec (the ``fast`` extra): the same bytes where its
        try:  # output is printable ASCII, as for the canonical encoding (domain.canonical)
            encoded = _SORTED(document)
        except UnicodeEncodeError:  # a lone surrogate: RFC 8785 escapes it
            return None
        if encoded.isascii() and b"\x7f" not in encoded:
            return encoded
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: RFC 8785 escapes it
        return None


def leaf_of(receipt: Receipt) -> bytes:
    return receipt_leaf(receipt_json(receipt))


# -- schema -------------------------------------------------------------------------------


def has_tables(db: ViewDB) -> bool:
    with db.reading() as cur:
        return has_tables_in(cur)


def has_tables_in(cur: Cursor) -> bool:
    """Whether the tables exist (checked apart from the other views', so a store whose
    views predate them gets them)."""
    if cur.db.dialect == "postgres":
        row = cur.one("SELECT to_regclass('pq_tlog_checkpoints') IS NOT NULL AS found")
    else:
        row = cur.one(
            "SELECT COUNT(*) > 0 AS found FROM sqlite_master WHERE type = 'table'"
            " AND name = 'pq_tlog_checkpoints'"
        )
    return bool(row and row["found"])


# -- applying events ------------------------------------------------------------------------


def apply_event(cur: Cursor, event: object) -> None:
    """Apply one event; called after the intent's own view row was updated by it."""
    if isinstance(event, Intent.Queued):
        cur.run(
            "INSERT INTO pq_tlog_intents (intent_id, queued_at) VALUES (?, ?)",
            (str(event.originator_id), event.timestamp.isoformat()),
        )
    elif isinstance(event, Intent.Settled | Intent.Failed):
        _append_receipt(cur, event)
    elif isinstance(event, TransparencyLog.Checkpointed):
        cur.run(
            "INSERT INTO pq_tlog_checkpoints (origin, seq, size, root, note, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                _origin_of(event.note),
                event.originator_version,
                event.size,
                event.root,
                event.note,
                event.timestamp.timestamp(),
            ),
        )


def _origin_of(note: str) -> str:
    return note.split("\n", 1)[0]


def _append_receipt(cur: Cursor, event: Any) -> None:
    key = str(event.originator_id)
    row = cur.one(
        "SELECT i.request_id, i.actor, i.target, i.attempts, i.job_id, i.deliverable_id,"
        " t.queued_at FROM pq_intents i JOIN pq_tlog_intents t ON t.intent_id = i.intent_id"
        " WHERE i.intent_id = ?",
        (key,),
    )
    if row is None:  # the intent's Queued event is not in the log: nothing to prove
        return
    settled = isinstance(event, Intent.Settled)
    receipt = Receipt(
        request_id=row["request_id"],
        actor=row["actor"],
        target=row["target"],
        status="SETTLED" if settled else "FAILED",
        attempts=int(row["attempts"]),
        job_id=row["job_id"],
        deliverable_id=row["deliverable_id"] if settled else None,
        queued_at=datetime.fromisoformat(row["queued_at"]),
        settled_at=event.timestamp if settled else None,
        proof=event.hash,
    )
    append_leaf(cur, key, leaf_of(receipt))


def append_leaf(cur: Cursor, intent_id: str, leaf: bytes) -> int:
    """Append ``leaf`` to the tree and cache every subtree it completes; its index."""
    last = cur.one("SELECT MAX(idx) AS last FROM pq_tlog_leaves")
    index = 0 if last is None or last["last"] is None else int(last["last"]) + 1
    cur.run(
        "INSERT INTO pq_tlog_leaves (idx, intent_id, leaf) VALUES (?, ?, ?)",
        (index, intent_id, leaf.decode("utf-8")),
    )
    digest = merkle.leaf_hash(leaf)
    level, i = 0, index
    cur.run("INSERT INTO pq_tlog_nodes (level, idx, hash) VALUES (0, ?, ?)", (i, digest.hex()))
    while i & 1:
        left = cur.one("SELECT hash FROM pq_tlog_nodes WHERE level = ? AND idx = ?", (level, i - 1))
        if left is None:
            raise LookupError(f"the tree's node cache lacks node ({level}, {i - 1})")
        digest = merkle.node_hash(bytes.fromhex(left["hash"]), digest)
        level, i = level + 1, i >> 1
        cur.run(
            "INSERT INTO pq_tlog_nodes (level, idx, hash) VALUES (?, ?, ?)",
            (level, i, digest.hex()),
        )
    return index


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointRow:
    origin: str
    seq: int
    size: int
    root: bytes
    note: str
    at: float


@dataclass(frozen=True)
class LeafRow:
    index: int
    intent_id: str
    leaf: bytes


def size(cur: Cursor) -> int:
    row = cur.one("SELECT MAX(idx) AS last FROM pq_tlog_leaves")
    return 0 if row is None or row["last"] is None else int(row["last"]) + 1


def hasher(cur: Cursor, tree_size: int) -> merkle.SubtreeHash:
    """A ``SubtreeHash`` over the node cache: each complete aligned subtree is one read, and
    each is read at most once per hasher, so a root or a proof costs O(log n) reads."""
    known: dict[tuple[int, int], bytes] = {}

    def subtree_hash(start: int, end: int) -> bytes:
        if not 0 <= start < end <= tree_size:
            raise merkle.ProofError(f"no subtree [{start}, {end}) in a tree of {tree_size}")
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            key = (n.bit_length() - 1, start // n)
            if key not in known:
                row = cur.one("SELECT hash FROM pq_tlog_nodes WHERE level = ? AND idx = ?", key)
                if row is None:
                    raise merkle.ProofError(f"the node cache lacks subtree [{start}, {end})")
                known[key] = bytes.fromhex(row["hash"])
            return known[key]
        k = merkle.split_point(n)
        return merkle.node_hash(subtree_hash(start, start + k), subtree_hash(start + k, end))

    return subtree_hash


def root(cur: Cursor, tree_size: int) -> bytes:
    """The RFC 6962 root of the first ``tree_size`` leaves."""
    if tree_size == 0:
        return merkle.EMPTY_ROOT
    return hasher(cur, tree_size)(0, tree_size)


def inclusion_proof(cur: Cursor, index: int, tree_size: int) -> list[bytes]:
    return merkle.inclusion_proof(index, tree_size, hasher(cur, tree_size))


def consistency_proof(cur: Cursor, old_size: int, new_size: int) -> list[bytes]:
    if old_size == 0:
        return []  # every tree extends the empty one
    return merkle.consistency_proof(old_size, new_size, hasher(cur, new_size))


def last_leaf_of(cur: Cursor, intent_id: str) -> LeafRow | None:
    """The latest leaf logged for an intent (its receipt when it last became terminal)."""
    row = cur.one(
        "SELECT idx, intent_id, leaf FROM pq_tlog_leaves WHERE intent_id = ?"
        " ORDER BY idx DESC LIMIT 1",
        (intent_id,),
    )
    if row is None:
        return None
    return LeafRow(int(row["idx"]), row["intent_id"], row["leaf"].encode("utf-8"))


def leaves(cur: Cursor, start: int, limit: int) -> list[LeafRow]:
    rows = cur.all(
        "SELECT idx, intent_id, leaf FROM pq_tlog_leaves WHERE idx >= ? ORDER BY idx LIMIT ?",
        (start, limit),
    )
    return [LeafRow(int(r["idx"]), r["intent_id"], r["leaf"].encode("utf-8")) for r in rows]


def latest_checkpoint(cur: Cursor, origin: str | None = None) -> CheckpointRow | None:
    """The newest checkpoint of ``origin`` (of any origin when None)."""
    if origin is None:
        row = cur.one("SELECT * FROM pq_tlog_checkpoints ORDER BY at DESC, seq DESC LIMIT 1")
    else:
        row = cur.one(
            "SELECT * FROM pq_tlog_checkpoints WHERE origin = ? ORDER BY seq DESC LIMIT 1",
            (origin,),
        )
    return _checkpoint(row) if row else None


def checkpoints(cur: Cursor) -> list[CheckpointRow]:
    rows = cur.all("SELECT * FROM pq_tlog_checkpoints ORDER BY origin, seq")
    return [_checkpoint(r) for r in rows]


def _checkpoint(row: dict[str, Any]) -> CheckpointRow:
    return CheckpointRow(
        origin=row["origin"],
        seq=int(row["seq"]),
        size=int(row["size"]),
        root=base64.b64decode(row["root"]),
        note=row["note"],
        at=float(row["at"]),
    )
