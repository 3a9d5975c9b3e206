"""Ed25519 keys and signatures for signed notes (c2sp.org/signed-note), via ``cryptography``.

The text forms and the checks that need no cryptography live in ``proofqueue.domain.note``;
this module supplies the keys, the signing and the ``verify`` callable.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from proofqueue.domain.note import (
    Note,
    NoteError,
    Signature,
    check_name,
    format_note,
    format_private_key,
    format_verifier_key,
    key_id,
    open_note,
    parse_private_key,
    parse_verifier_key,
)


class SigningKey:
    """A loaded private key: signs note texts as ``name``."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        check_name(name)
        self.name = name
        self._private_key = private_key
        self.public_key = private_key.public_key().public_bytes_raw()
        self.key_id = key_id(name, self.public_key)

    def __repr__(self) -> str:
        return f"SigningKey({self.name}+{self.key_id.hex()})"

    @property
    def verifier_key(self) -> str:
        """The verifier key others check this key's signatures with."""
        return format_verifier_key(self.name, self.public_key)

    @property
    def private_key_text(self) -> str:
        """The private key in signed-note form (a secret)."""
        seed = self._private_key.private_bytes_raw()
        return format_private_key(self.name, seed, self.public_key)

    def sign(self, text: str) -> str:
        """The signed note: ``text`` (ending in a newline) with this key's signature."""
        signature = self._private_key.sign(text.encode())
        return format_note(text, [Signature(self.name, self.key_id, signature)])


def new_signing_key(origin: str) -> tuple[str, str]:
    """A fresh key named ``origin``: (private key text, verifier key text)."""
    check_name(origin, "origin")
    key = SigningKey(origin, Ed25519PrivateKey.generate())
    return key.private_key_text, key.verifier_key


def load_signing_key(text: str) -> SigningKey:
    """Load ``PRIVATE+KEY+<name>+<key ID>+<base64>``; its key ID must match the key."""
    parsed = parse_private_key(text)
    key = SigningKey(parsed.name, Ed25519PrivateKey.from_private_bytes(parsed.seed))
    if key.key_id != parsed.key_id:
        raise NoteError(
            f"the private key for {parsed.name!r} has key ID {parsed.key_id.hex()},"
            f" but its key gives {key.key_id.hex()}"
        )
    return key


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a good Ed25519 signature of ``message`` by ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_note(signed: str, verifier_key: str) -> Note:
    """Parse ``signed`` and check its signature by ``verifier_key``. Raises NoteError when
    either is malformed, NoteNotVerified when no good signature by that key is on it."""
    return open_note(signed, parse_verifier_key(verifier_key), ed25519_verify)
