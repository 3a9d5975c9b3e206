"""Params at rest: sealed with AES-GCM under PROOFQUEUE_CIPHER_KEY, or plain when no key.

The ciphertext is bound to its request_id (associated data), so a sealed blob moved to
another intent does not open. The digest that idempotency compares is keyed (HMAC) when a
key is set, so a low-entropy secret cannot be guessed from it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from proofqueue.domain.canonical import canonical
from proofqueue.domain.errors import ConfigurationError

_PREFIX = "v1:"


def new_key() -> str:
    """A fresh key for PROOFQUEUE_CIPHER_KEY: base64 of 32 random bytes."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


def parse_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            "PROOFQUEUE_CIPHER_KEY is not base64; create one with `proofqueue key`"
        ) from None
    if len(key) != 32:
        raise ConfigurationError(
            f"PROOFQUEUE_CIPHER_KEY must decode to 32 bytes (got {len(key)});"
            " create one with `proofqueue key`"
        )
    return key


class AesSealer:
    def __init__(self, key: bytes | None) -> None:
        self._aead = AESGCM(key) if key else None
        self._mac_key = hashlib.sha256(b"proofqueue digest|" + key).digest() if key else None

    @property
    def has_key(self) -> bool:
        return self._aead is not None

    def digest(self, body: bytes) -> str:
        """The digest of params already in canonical encoding."""
        if self._mac_key is not None:
            return "hmac-sha256:" + hmac.new(self._mac_key, body, hashlib.sha256).hexdigest()
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def seal(self, params: Mapping[str, Any], request_id: str) -> str:
        if self._aead is None:
            raise ConfigurationError("sealing params needs PROOFQUEUE_CIPHER_KEY")
        nonce = os.urandom(12)
        blob = self._aead.encrypt(nonce, canonical(params), request_id.encode())
        return _PREFIX + base64.b64encode(nonce + blob).decode("ascii")

    def open(self, sealed: str, request_id: str) -> dict[str, Any]:
        if self._aead is None:
            raise ConfigurationError(
                f"params of {request_id!r} are sealed; set PROOFQUEUE_CIPHER_KEY to the key"
                " they were sealed with"
            )
        raw = base64.b64decode(sealed.removeprefix(_PREFIX))
        try:
            plain = self._aead.decrypt(raw[:12], raw[12:], request_id.encode())
        except InvalidTag:
            raise ConfigurationError(
                f"params of {request_id!r} do not open with this PROOFQUEUE_CIPHER_KEY"
                " (another key, or the record was tampered with)"
            ) from None
        value = json.loads(plain)
        if not isinstance(value, dict):
            raise ConfigurationError(f"sealed params of {request_id!r} are not an object")
        return value
