"""What an answer says besides its outcome: the ``Retry-After`` wait and the error detail.

``parse_retry_after`` reads delta-seconds or an HTTP-date, clamped to [0, ``MAX_RETRY_AFTER_S``];
``clean_detail`` makes a text safe for the trail (secrets cut out, one line, at most
``DETAIL_LIMIT`` characters); ``error_detail`` takes the vendor's own words for an error.
"""

from __future__ import annotations

import email.utils
import json
import re
import unicodedata
from collections.abc import Collection, Mapping
from datetime import UTC, datetime

DETAIL_LIMIT = 300
MAX_RETRY_AFTER_S = 3600.0

_REDACTED = "[redacted]"
_DELTA_SECONDS = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RETRY_AFTER_MAX_CHARS = 64  # an HTTP-date is 29; anything much longer is not a Retry-After
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_NOT_PLAIN = re.compile(r"[^ -~]")  # anything but printable ASCII is looked at closely


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None.

    The result is clamped to [0, ``MAX_RETRY_AFTER_S``]: a vendor cannot park the caller for
    ages. Values that are neither (``nan``, ``inf``, words, dates out of range) are ignored.
    """
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > _RETRY_AFTER_MAX_CHARS:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        return _clamp(float(text))  # this syntax never raises; 1e400 reads as inf
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return _clamp(seconds)


def _clamp(seconds: float) -> float:
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def clean_detail(text: str, secrets: Collection[str] = ()) -> str:
    """``text`` made safe for the trail and logs: secrets cut out, one line, short.

    Secrets are cut out before anything is shortened, so no prefix of one survives the cut;
    and again after control characters became spaces, in case they were hiding one."""
    text = _redact(text, secrets)[: DETAIL_LIMIT * 4]
    if _NOT_PLAIN.search(text):
        text = "".join(" " if _unsafe(ch) else ch for ch in text)
    text = _redact(" ".join(text.split()), secrets)
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 3] + "..."


def _unsafe(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _redact(text: str, secrets: Collection[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def error_detail(status: int, body: bytes, secrets: Collection[str] = ()) -> str:
    """The vendor's own words for an error: ``error``/``message``/``detail`` or the raw text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        payload = None
    if isinstance(payload, Mapping):
        for key in ("error", "message", "detail"):
            value = payload.get(key)
            if value:
                text = value if isinstance(value, str) else json.dumps(value)
                break
    return clean_detail(f"HTTP {status}: {text}" if text else f"HTTP {status}", secrets)
