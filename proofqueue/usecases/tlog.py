"""The transparency log: signed checkpoints of the tree of terminal receipts, the proofs
that go with receipts, and the audit that the log extends a checkpoint held elsewhere.

The tree is a view (``proofqueue.projections.tlog``); checkpoints are events of a
``TransparencyLog`` aggregate, so they are in the log, chained, and replayed like the rest.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.persistence import IntegrityError

from proofqueue.bootstrap import Components
from proofqueue.domain import merkle
from proofqueue.domain.checkpoint import (
    Checkpoint,
    TlogProof,
    format_checkpoint,
    format_tlog_proof,
    parse_checkpoint,
)
from proofqueue.domain.errors import ConfigurationError, InvalidInput
from proofqueue.domain.intent import intent_id
from proofqueue.domain.note import NoteError, NoteNotVerified, open_note, parse_verifier_key
from proofqueue.domain.receipt import Receipt
from proofqueue.domain.transparency_log import CheckpointRefused, NoCheckpoint, TransparencyLog
from proofqueue.ports import NoteSigner
from proofqueue.projections import tlog
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import ViewDB, sqlite_viewdb

NO_KEY = (
    "no signing key: set PROOFQUEUE_SIGNING_KEY to a key made with"
    " `proofqueue signing-key --origin NAME`"
)


def _origin(parts: Components) -> str | None:
    return parts.signer.name if parts.signer is not None else None


# -- checkpoints ------------------------------------------------------------------------------


def latest_checkpoint(parts: Components) -> str | None:
    """The newest signed checkpoint (of this key's origin when a key is set), verbatim."""
    parts.projector.catch_up()
    with parts.db.reading() as cur:
        found = tlog.latest_checkpoint(cur, _origin(parts))
    return found.note if found else None


def sign_checkpoint(parts: Components, now: datetime | None = None) -> str:
    """Sign a checkpoint of the tree as it is now and record it; when the latest checkpoint
    already covers every receipt, answer that one."""
    if parts.signer is None:
        raise ConfigurationError(NO_KEY)
    signed = _sign(parts, parts.signer, now or parts.clock(), due_only=False)
    if signed is None:  # another process recorded one at the same moment
        signed = latest_checkpoint(parts)
    if signed is None:
        raise NoCheckpoint("no checkpoint could be recorded")
    return signed


def sign_checkpoint_if_due(parts: Components, now: datetime | None = None) -> str | None:
    """What a worker calls each round: sign and record a checkpoint when the tree grew since
    the latest one and that one is at least ``checkpoint_s`` old (so a checkpoint covers
    every receipt within ``checkpoint_s`` of it, and at most one is signed per period).
    Answers the new checkpoint, or None when none was due or no key is set."""
    if parts.signer is None:
        return None
    return _sign(parts, parts.signer, now or parts.clock(), due_only=True)


def _sign(parts: Components, signer: NoteSigner, now: datetime, *, due_only: bool) -> str | None:
    parts.projector.catch_up()
    with parts.db.reading() as cur:
        size = tlog.size(cur)
        latest = tlog.latest_checkpoint(cur, signer.name)
        if latest is not None and latest.size == size:
            return None if due_only else latest.note
        if due_only and (
            size == 0
            or (latest is not None and now.timestamp() - latest.at < parts.settings.checkpoint_s)
        ):
            return None
        root = tlog.root(cur, size)
    note = signer.sign(format_checkpoint(Checkpoint(signer.name, size, root)))
    log = parts.log.transparency_log(signer.name) or TransparencyLog.start(signer.name, now)
    try:
        log.record(size=size, root=base64.b64encode(root).decode(), note=note, now=now)
        parts.log.save(log)
    except (IntegrityError, CheckpointRefused):
        return None  # another process recorded a checkpoint first
    return note


# -- proofs -------------------------------------------------------------------------------------


def tlog_proof(parts: Components, receipt: Receipt) -> str | None:
    """The c2sp.org/tlog-proof@v1 text of a terminal receipt against the latest checkpoint,
    or None while no checkpoint covers it."""
    if not receipt.is_final:
        return None
    parts.projector.catch_up()
    with parts.db.reading() as cur:
        leaf = tlog.last_leaf_of(cur, str(intent_id(receipt.request_id)))
        if leaf is None or leaf.leaf != tlog.leaf_of(receipt):
            return None
        checkpoint = tlog.latest_checkpoint(cur, _origin(parts))
        if checkpoint is None or leaf.index >= checkpoint.size:
            return None
        hashes = tlog.inclusion_proof(cur, leaf.index, checkpoint.size)
    return format_tlog_proof(TlogProof(leaf.index, tuple(hashes), checkpoint.note))


def consistency(parts: Components, old_size: int) -> dict[str, Any]:
    """The RFC 6962 consistency proof from ``old_size`` to the latest checkpoint."""
    parts.projector.catch_up()
    with parts.db.reading() as cur:
        checkpoint = tlog.latest_checkpoint(cur, _origin(parts))
        if checkpoint is None:
            raise NoCheckpoint("no checkpoint yet: sign one with `proofqueue checkpoint --sign`")
        if not 0 <= old_size <= checkpoint.size:
            raise InvalidInput(
                "old_size", f"must be between 0 and the checkpoint's size {checkpoint.size}"
            )
        proof = tlog.consistency_proof(cur, old_size, checkpoint.size)
    return {
        "old_size": old_size,
        "new_size": checkpoint.size,
        "proof": [base64.b64encode(h).decode() for h in proof],
        "checkpoint": checkpoint.note,
    }


# -- auditing the log against a checkpoint held elsewhere -----------------------------------


@dataclass(frozen=True)
class LogReport:
    """What ``verify_log`` found. ``ok`` when the log extends the checkpoint held."""

    since_size: int
    size: int  # receipts in the tree rebuilt from the log
    checkpoint: str | None  # the latest checkpoint recorded in the log, verbatim
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "since_size": self.since_size,
            "size": self.size,
            "checkpoint": self.checkpoint,
            "problems": self.problems,
        }


def verify_log(parts: Components, held: str, verifier_key: str) -> LogReport:
    """Check that the log extends the checkpoint ``held`` (a signed note kept by an auditor):
    the tree is rebuilt from the log alone (never from the live views), its first
    ``size`` receipts must hash to the held root, and the latest checkpoint recorded in the
    log must be signed by the key, match the rebuilt tree and be consistent with the held
    one (RFC 6962 consistency proof)."""
    try:
        key = parse_verifier_key(verifier_key.strip())
    except NoteError as exc:
        raise InvalidInput("key", str(exc)) from None
    try:
        old = parse_checkpoint(open_note(held, key, parts.verify_signature).text)
    except NoteError as exc:
        raise InvalidInput("checkpoint", str(exc)) from None
    except NoteNotVerified as exc:
        return LogReport(0, 0, None, [f"the checkpoint held: {exc}"])
    problems: list[str] = []
    if old.origin != key.name:
        problems.append(f"the checkpoint held is of {old.origin!r}, but the key is {key.name!r}")
    with rebuilt_views(parts) as db, db.reading() as cur:
        size = tlog.size(cur)
        if size < old.size:
            problems.append(
                f"the log holds {size} receipts, fewer than the {old.size} of the checkpoint"
                " held: it was truncated, or restored from a copy older than that checkpoint"
            )
        elif tlog.root(cur, old.size) != old.root_hash:
            problems.append(
                f"the first {old.size} receipts rebuilt from the log do not hash to the root"
                " of the checkpoint held: a receipt or an event it came from was changed,"
                " removed or reordered since"
            )
        latest_note: str | None = None
        for recorded in (c for c in tlog.checkpoints(cur) if c.origin == key.name):
            latest_note = recorded.note
            problems.extend(_check_recorded(parts, key, recorded, size, cur))
        latest = tlog.latest_checkpoint(cur, key.name)
        if latest is None:
            problems.append(f"the log records no checkpoint of {key.name!r}")
        elif latest.size < old.size:
            problems.append(
                f"the latest checkpoint in the log (size {latest.size}) is older than the one"
                f" held (size {old.size}): the log was restored from an older copy"
            )
        elif not problems and old.size > 0:
            proof = tlog.consistency_proof(cur, old.size, latest.size)
            if not merkle.verify_consistency(
                old.size, latest.size, proof, old.root_hash, latest.root
            ):
                problems.append(
                    f"no consistency proof from size {old.size} to {latest.size}:"
                    " the log does not extend the checkpoint held"
                )
    return LogReport(old.size, size, latest_note, problems)


def _check_recorded(
    parts: Components, key: Any, recorded: tlog.CheckpointRow, size: int, cur: Any
) -> list[str]:
    where = f"checkpoint {recorded.seq - 1} in the log (size {recorded.size})"
    try:
        text = parse_checkpoint(open_note(recorded.note, key, parts.verify_signature).text)
    except (NoteError, NoteNotVerified) as exc:
        return [f"{where}: {exc}"]
    if (text.size, text.root_hash) != (recorded.size, recorded.root):
        return [f"{where}: its note does not say the size and root its event records"]
    if recorded.size > size:
        return [f"{where}: covers more receipts than the log holds ({size})"]
    if tlog.root(cur, recorded.size) != recorded.root:
        return [f"{where}: its root is not the root of the tree rebuilt from the log"]
    return []


@contextmanager
def rebuilt_views(parts: Components) -> Iterator[ViewDB]:
    """Every view rebuilt from the log alone, in a throwaway SQLite store."""
    with tempfile.TemporaryDirectory(prefix="proofqueue-verify-log-") as tmp:
        fresh = sqlite_viewdb(os.path.join(tmp, "views.db"))
        try:
            Projector(parts.log.recorder, parts.log.mapper, fresh).catch_up()
            yield fresh
        finally:
            fresh.datastore.close()
