"""Transparency log checkpoints and proofs, the text forms C2SP gives them.

- c2sp.org/tlog-checkpoint: the text of a signed note, ``<origin>\\n<tree size>\\n<base64
  root>\\n`` followed by optional non-empty extension lines.
- c2sp.org/tlog-proof@v1: the header line, an optional ``extra <base64>`` line, ``index N``,
  one base64 inclusion-proof hash per line (leaf's sibling first), a blank line, then the
  signed checkpoint verbatim.

Parsing is strict and raises ``NoteError`` (see ``note.py``) with a one-line message. Each
``format_*`` function reads its output back through the parser, so the rules live once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proofqueue.domain.note import (
    NoteError,
    check_chars,
    check_size,
    decode_base64,
    encode_base64,
    parse_note,
)

HASH_SIZE = 32
MAX_PROOF_HASHES = 64  # a tree of fewer than 2**64 leaves never needs more
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class TlogProof:
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str  # the signed checkpoint note, verbatim
    extra: bytes | None = None


# Checkpoints


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The checkpoint note text (to be signed)."""
    lines = [
        checkpoint.origin,
        str(checkpoint.size),
        encode_base64(checkpoint.root_hash),
        *checkpoint.extensions,
    ]
    text = "\n".join(lines) + "\n"
    if parse_checkpoint(text) != checkpoint:  # one set of rules, kept in the parser
        raise NoteError("the checkpoint does not read back as itself")
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (not the signed note: its text part)."""
    check_chars(text, "checkpoint")
    if not text.endswith("\n"):
        raise NoteError("a checkpoint ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a tree size and a root hash line")
    origin, size, root_b64, *extensions = lines
    if not origin:
        raise NoteError("the checkpoint's origin line is empty")
    if any(not line for line in extensions):
        raise NoteError("a checkpoint's extension lines must not be empty")
    root_hash = decode_base64(root_b64, "the checkpoint's root hash")
    check_size(root_hash, HASH_SIZE, "the checkpoint's root hash")
    return Checkpoint(origin, parse_decimal(size, "tree size"), root_hash, tuple(extensions))


# tlog proofs


def format_tlog_proof(proof: TlogProof) -> str:
    """The c2sp.org/tlog-proof@v1 text."""
    head = [TLOG_PROOF_HEADER]
    if proof.extra is not None:
        head.append(f"extra {encode_base64(proof.extra)}")
    head.append(f"index {proof.index}")
    head.extend(encode_base64(h) for h in proof.hashes)
    text = "\n".join(head) + "\n\n" + proof.checkpoint
    if parse_tlog_proof(text) != proof:  # one set of rules, kept in the parser
        raise NoteError("the tlog proof does not read back as itself")
    return text


def parse_tlog_proof(text: str) -> TlogProof:
    """Parse a c2sp.org/tlog-proof@v1 text; its checkpoint must be a well-formed signed note
    whose text is a checkpoint."""
    head, sep, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise NoteError(f"a tlog proof starts with the line {TLOG_PROOF_HEADER}")
    if not sep:
        raise NoteError("a tlog proof has a blank line before its checkpoint")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = decode_base64(rest.pop(0)[len("extra ") :], "the tlog proof's extra data")
    if not rest or not rest[0].startswith("index "):
        raise NoteError("a tlog proof has an 'index N' line after its header")
    index = parse_decimal(rest.pop(0)[len("index ") :], "index")
    if len(rest) > MAX_PROOF_HASHES:
        raise NoteError(f"an inclusion proof has at most {MAX_PROOF_HASHES} hashes")
    hashes: list[bytes] = []
    for i, line in enumerate(rest):
        raw = decode_base64(line, f"inclusion proof hash {i}")
        check_size(raw, HASH_SIZE, f"inclusion proof hash {i}")
        hashes.append(raw)
    parse_checkpoint(parse_note(checkpoint).text)
    return TlogProof(index, tuple(hashes), checkpoint, extra)


def parse_decimal(text: str, what: str) -> int:
    """An unsigned 64-bit decimal with no leading zeros (``0`` alone is zero)."""
    if len(text) > 20 or not _DECIMAL.fullmatch(text) or int(text) >= 2**64:
        raise NoteError(f"{what} {text[:24]!r} is not a decimal number without leading zeros")
    return int(text)
