"""Signed notes and their keys, as c2sp.org/signed-note writes them down.

A signed note is a text ending in a newline, a blank line, then signature lines
``— <key name> <base64(key ID || signature)>``. Verifier keys read
``<name>+<key ID hex8>+<base64(0x01 || public key)>``, private keys
``PRIVATE+KEY+<name>+<key ID hex8>+<base64(0x01 || seed)>``; only Ed25519 (type 0x01) is
supported. Checkpoints and tlog proofs, which are built on notes, are in ``checkpoint.py``.

Parsing is strict (canonical base64, the spec's name rules, no control characters);
anything else raises ``NoteError`` with a one-line message. Signatures are checked through a
``Verify`` callable, so this module needs no cryptography library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from proofqueue.domain.errors import ProofQueueError

ED25519 = 0x01
ED25519_KEY_SIZE = 32
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
EM_DASH = "\u2014"

Verify = Callable[[bytes, bytes, bytes], bool]
"""``verify(public_key, message, signature)``: True when the Ed25519 signature is good."""

_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class NoteError(ProofQueueError, ValueError):
    """Text that is not a well-formed note, key, checkpoint or tlog proof; one-line message."""


class NoteNotVerified(ProofQueueError):
    """A well-formed note that carries no good signature by the expected key."""


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}"


@dataclass(frozen=True)
class PrivateKey:
    name: str
    key_id: bytes
    seed: bytes = field(repr=False)


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]


# Names and keys


def check_name(name: str, what: str = "key name") -> None:
    """Raise NoteError unless ``name`` is non-empty, with no spaces, '+' or control characters."""
    if not name:
        raise NoteError(f"{what} is empty")
    if "+" in name or any(ch.isspace() or ch < " " for ch in name):
        raise NoteError(f"{what} {name[:64]!r} contains a space, '+' or a control character")
    _check_utf8(name, what)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || 0x01 || Ed25519 public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def format_verifier_key(name: str, public_key: bytes) -> str:
    check_name(name)
    check_size(public_key, ED25519_KEY_SIZE, "public key")
    encoded = encode_base64(bytes([ED25519]) + public_key)
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse ``<name>+<key ID hex8>+<base64(0x01 || public key)>``; the ID must match."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key has the form <name>+<key ID hex8>+<base64 key>")
    name, id_hex, encoded = parts
    check_name(name)
    kid = _parse_key_id(id_hex)
    public_key = _ed25519_material(encoded, "verifier key")
    if key_id(name, public_key) != kid:
        raise NoteError(f"verifier key {name}+{id_hex}: the key ID does not match name and key")
    return VerifierKey(name, kid, public_key)


def format_private_key(name: str, seed: bytes, public_key: bytes) -> str:
    check_name(name)
    check_size(seed, ED25519_KEY_SIZE, "private key seed")
    check_size(public_key, ED25519_KEY_SIZE, "public key")
    encoded = encode_base64(bytes([ED25519]) + seed)
    return f"PRIVATE+KEY+{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_private_key(text: str) -> PrivateKey:
    """Parse ``PRIVATE+KEY+<name>+<key ID hex8>+<base64(0x01 || seed)>``. The key ID can only
    be checked once the public key is derived from the seed, which the caller does."""
    # Messages never quote the text: it is a secret.
    prefix = "PRIVATE+KEY+"
    parts = text[len(prefix) :].split("+", 2) if text.startswith(prefix) else []
    if len(parts) != 3:
        raise NoteError("a private key has the form PRIVATE+KEY+<name>+<key ID hex8>+<base64>")
    name, id_hex, encoded = parts
    check_name(name)
    return PrivateKey(name, _parse_key_id(id_hex), _ed25519_material(encoded, "private key"))


def _parse_key_id(id_hex: str) -> bytes:
    if not _KEY_ID_HEX.fullmatch(id_hex):
        raise NoteError(f"key ID {id_hex[:16]!r} is not 8 lowercase hex digits")
    return bytes.fromhex(id_hex)


def _ed25519_material(encoded: str, what: str) -> bytes:
    raw = decode_base64(encoded, what)
    if not raw or raw[0] != ED25519:
        raise NoteError(f"{what} is not an Ed25519 key (type byte 0x01)")
    check_size(raw[1:], ED25519_KEY_SIZE, what)
    return raw[1:]


# Signed notes


def format_note(text: str, signatures: tuple[Signature, ...] | list[Signature]) -> str:
    """The signed note: ``text``, a blank line and one line per signature."""
    _check_text(text)
    if not signatures:
        raise NoteError("a signed note needs at least one signature")
    lines = []
    for sig in signatures:
        check_name(sig.name)
        check_size(sig.key_id, 4, "key ID")
        if not sig.signature:
            raise NoteError(f"the signature by {sig.name!r} is empty")
        lines.append(f"{EM_DASH} {sig.name} {encode_base64(sig.key_id + sig.signature)}\n")
    return text + "\n" + "".join(lines)


def parse_note(signed: str) -> Note:
    """Split a signed note into its text and signatures, checking their form only."""
    check_chars(signed, "note")
    split = signed.rfind("\n\n")
    if split < 0:
        raise NoteError("a signed note needs a blank line before its signatures")
    text, block = signed[: split + 1], signed[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("a signed note ends with a signature line and a newline")
    signatures: list[Signature] = []
    for line in block[:-1].split("\n"):
        if len(signatures) == MAX_SIGNATURES:
            raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
        signatures.append(_parse_signature_line(line))
    return Note(text, tuple(signatures))


def _parse_signature_line(line: str) -> Signature:
    if not line.startswith(EM_DASH + " "):
        raise NoteError(f"signature line {line[:40]!r} does not start with an em dash and space")
    name, _, encoded = line[2:].partition(" ")
    check_name(name)
    raw = decode_base64(encoded, f"the signature by {name!r}")
    if len(raw) < 5:
        raise NoteError(f"the signature by {name!r} is too short to hold a key ID and signature")
    return Signature(name, raw[:4], raw[4:])


def open_note(signed: str, key: VerifierKey, verify: Verify) -> Note:
    """Parse ``signed`` and check it carries a good signature by ``key``. Signatures by other
    keys are ignored, as the spec requires; one by ``key`` that fails rejects the note."""
    note = parse_note(signed)
    mine = [s for s in note.signatures if (s.name, s.key_id) == (key.name, key.key_id)]
    if not mine:
        same_name = [s.key_id.hex() for s in note.signatures if s.name == key.name]
        if same_name:
            raise NoteNotVerified(
                f"the note is signed by {key.name} with key ID {same_name[0]},"
                f" not {key.key_id.hex()}: another key of that name"
            )
        signers = ", ".join(sorted({s.name for s in note.signatures}))
        raise NoteNotVerified(f"the note is not signed by {key.name} (signed by {signers})")
    message = note.text.encode()
    for sig in mine:
        if not verify(key.public_key, message, sig.signature):
            raise NoteNotVerified(f"the signature by {key} does not verify")
    return note


# Shared checks


def _check_text(text: str) -> None:
    check_chars(text, "note text")
    if not text.endswith("\n"):
        raise NoteError("a note text ends with a newline")


def check_chars(text: str, what: str) -> None:
    """Raise NoteError if ``text`` is not UTF-8 or holds a control character but newline."""
    _check_utf8(text, what)
    bad = next((ch for ch in text if ch < " " and ch != "\n"), None)
    if bad is not None:
        raise NoteError(f"{what} contains the control character {bad!r}")


def _check_utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} is not valid UTF-8") from None


def check_size(value: bytes, size: int, what: str) -> None:
    """Raise NoteError unless ``value`` is ``size`` bytes long."""
    if len(value) != size:
        raise NoteError(f"{what} is {len(value)} bytes, not {size}")


def encode_base64(raw: bytes) -> str:
    """Standard base64 (RFC 4648 section 4), padded."""
    return base64.b64encode(raw).decode("ascii")


def decode_base64(text: str, what: str) -> bytes:
    """Decode standard base64, accepting only the one canonical encoding of the bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None
    if encode_base64(raw) != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw
