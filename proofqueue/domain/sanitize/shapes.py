"""Secrets known by their shape (Bearer tokens, JWTs, private keys, long hex keys, well-known
token prefixes, user:password@ in URLs), each pattern with what every match of it needs.

``_SECRET_VALUE`` is every shape in one pattern (its alternatives tried in this order at each
place of a text). ``_shape_spans`` runs the same pattern without the alternatives a text
cannot match (it lacks what they need): at every place the first alternative that matches
is the same, so the matches are the same, and a text with one hint pays for one alternative.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

Span = tuple[int, int]
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_GITHUB_TOKEN = re.compile(r"gh[pousr]_")

# (pattern, what a text needs for it to match somewhere: given the text and its lower case).
# "bearer" is looked for in the lower case: its letters have no other case form in Python's
# regular expressions (``test_sanitize_gate`` checks it over all of Unicode).
_SHAPES: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    (r"(?i:\bbearer\s+)[^\s\"'<>,;()\[\]{}\\]{8,}", lambda t, low: "bearer" in low),
    (r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", lambda t, low: "eyJ" in t),
    # PEM, OpenSSH, SSH2 and PGP private keys; to the end of the text when cut off.
    (
        r"(?s:-{4,5} ?BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}.*?"
        r"(?:-{4,5} ?END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}|$))",
        lambda t, low: "PRIVATE KEY" in t,
    ),
    (
        r"\b(?:0x)?[0-9a-fA-F]{64,}\b",
        lambda t, low: len(t) >= 64 and _HEX_KEY.search(t) is not None,
    ),
    (
        r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}",
        lambda t, low: "_live_" in t or "_test_" in t,
    ),
    (r"\bsk-[A-Za-z0-9_-]{16,}", lambda t, low: "sk-" in t),
    (
        r"\bgh[pousr]_[A-Za-z0-9]{20,}",
        lambda t, low: "_" in t and _GITHUB_TOKEN.search(t) is not None,
    ),
    (r"\bgithub_pat_[A-Za-z0-9_]{20,}", lambda t, low: "github_pat_" in t),
    (r"\bglpat-[A-Za-z0-9_-]{20,}", lambda t, low: "glpat-" in t),
    (r"\bxox[abprs]-[A-Za-z0-9-]{10,}", lambda t, low: "xox" in t),
    (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", lambda t, low: "AKIA" in t or "ASIA" in t),
    (r"\bAIza[0-9A-Za-z_-]{35}", lambda t, low: "AIza" in t),
    # user:password@ after a scheme; the password may hold '@' or '/' (the host is what
    # follows the last '@'); "host:8443/path/@me" is a port, not a password.
    (
        r"(?<=://)[^\s/?#@:\[\]\"'<>]*:(?!\d*(?:[/?#\"'<>\s]|$))[^\s\"'<>]*?"
        r"(?=@[^\s@/?#\"'<>]*(?:[/?#\"'<>\s]|$))",
        lambda t, low: "://" in t and "@" in t,
    ),
)
# Redacted whole wherever they occur.
_SECRET_VALUE = re.compile("|".join(pattern for pattern, _ in _SHAPES))


@functools.lru_cache(maxsize=256)
def _shapes_of(mask: int) -> re.Pattern[str]:
    """``_SECRET_VALUE`` with only the alternatives whose bit is set in ``mask``."""
    return re.compile("|".join(p for i, (p, _) in enumerate(_SHAPES) if mask >> i & 1))


# Every hint above as a plain search, for the common text that has none of them.
_LITERAL_HINTS = (
    "eyJ", "PRIVATE KEY", "_live_", "_test_", "sk-", "github_pat_", "glpat-", "xox", "AKIA",
    "ASIA", "AIza",
)  # fmt: skip


def _may_have_shape(text: str) -> bool:
    """Whether any of the shapes may match ``text`` (one of their hints is in it)."""
    for hint in _LITERAL_HINTS:
        if hint in text:
            return True
    if "://" in text and "@" in text:
        return True
    if "_" in text and _GITHUB_TOKEN.search(text) is not None:
        return True
    if len(text) >= 6 and "bearer" in text.lower():
        return True
    return len(text) >= 64 and _HEX_KEY.search(text) is not None


def _shape_spans(text: str) -> list[Span]:
    """What ``_SECRET_VALUE`` finds in ``text``, run with only the shapes it may hold."""
    if not _may_have_shape(text):
        return []
    lower = text.lower()
    mask = 0
    for i, (_, may_match) in enumerate(_SHAPES):
        if may_match(text, lower):
            mask |= 1 << i
    if not mask:
        return []
    return [m.span() for m in _shapes_of(mask).finditer(text)]
