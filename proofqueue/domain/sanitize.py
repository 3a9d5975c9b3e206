"""Redaction of secrets from anything shown in public: receipts, CLI output, logs, views.

A value is redacted when its key looks like a secret (password, token, api_key, cvv, ...)
or when the value itself looks like one (bearer tokens, JWTs, Luhn-valid card numbers, long
hex keys, PEM private keys, well-known token prefixes, credentials inside URLs). Keys are
kept, so the shape of the params stays visible.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from proofqueue.domain.canonical import key_path

REDACTED = "[REDACTED]"

# A key is secret when one of its words is, or two adjacent words are (``api_key``,
# ``cardNumber``). Words, not substrings: ``business_name`` holds no "ssn", ``max_tokens``
# is not a token.
_SECRET_WORDS = frozenset(
    {
        "password", "passwords", "passwd", "pwd", "passphrase", "secret", "secrets", "token",
        "apikey", "authorization", "auth", "privatekey", "mnemonic", "cvv", "cvc", "cvv2",
        "credential", "credentials", "cookie", "cookies", "bearer", "iban", "ssn", "pin",
        "otp", "pan", "jwt", "seed", "cardnumber", "creditcard", "sessionid",
    }
)  # fmt: skip
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"), ("private", "key"), ("secret", "key"), ("access", "key"),
        ("signing", "key"), ("encryption", "key"), ("card", "number"), ("card", "no"),
        ("credit", "card"), ("seed", "phrase"), ("session", "id"), ("security", "code"),
        ("client", "secret"), ("access", "token"), ("refresh", "token"), ("id", "token"),
        ("auth", "token"), ("session", "token"), ("account", "number"), ("routing", "number"),
    }
)  # fmt: skip
_SECRET_KEYS_EXACT = frozenset({"key"})
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# Secret-looking values, as one pattern so that a text is scanned once.
_SECRET_VALUE = re.compile(
    "|".join(
        (
            r"(?i:\bbearer\s+[A-Za-z0-9._~+/=-]{8,})",
            r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            r"(?s:-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))",
            r"\b(?:0x)?[0-9a-fA-F]{64,}\b",
            r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}",
            r"\bsk-[A-Za-z0-9_-]{16,}",
            r"\bgh[pousr]_[A-Za-z0-9]{20,}",
            r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
            r"\bAKIA[0-9A-Z]{16}\b",
            r"(?<=://)[^/\s:@]*:[^/\s@]+(?=@)",
        )
    )
)
# Runs of digit groups separated by single spaces or dashes, not touching letters or digits
# (so the digits inside a hex string or a longer number are not candidates).
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]+(?:[ -][0-9]+)*(?![0-9A-Za-z])")
# Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners,
# UnionPay, Maestro): a Luhn-valid number without one is not taken for a card.
_CARD_PREFIX = re.compile(r"4|5[0-8]|2[2-7]|3[4-9]|30[0-5]|6")


def is_secret_key(key: str) -> bool:
    words = [w.lower() for w in _WORD.findall(key)]
    if "".join(words) in _SECRET_KEYS_EXACT | _SECRET_WORDS:
        return True
    if any(word in _SECRET_WORDS for word in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and _luhn_ok(digits)


def _card_spans(run: str) -> list[tuple[int, int]]:
    """Spans of ``run`` (digit groups) that are card numbers: whole groups only."""
    groups = [(m.start(), m.end()) for m in re.finditer(r"[0-9]+", run)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            digits = "".join(run[a:b] for a, b in groups[i:j])
            if _is_card(digits):
                spans.append((groups[i][0], groups[j - 1][1]))
                i = j - 1
                break
        i += 1
    return spans


def _redact_cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        for start, end in reversed(_card_spans(run)):
            run = run[:start] + REDACTED + run[end:]
        return run

    return _DIGIT_RUN.sub(replace, text)


def redact_text(text: str, known_secrets: Iterable[str] = ()) -> str:
    """Redact secret-looking substrings and any of ``known_secrets`` from free text."""
    for secret in sorted({s for s in known_secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _redact_cards(_SECRET_VALUE.sub(REDACTED, text))


def _scalar_secrets(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _scalar_secrets(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _scalar_secrets(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def secret_values(params: Mapping[str, Any]) -> set[str]:
    """Every scalar held under a secret-looking key, as text (to redact vendor echoes)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if is_secret_key(str(key)):
                    found.update(s for s in _scalar_secrets(item) if len(s) >= 3)
                else:
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(params)
    return found


def sanitize(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return a public copy of ``params`` and the paths that were redacted."""
    paths: list[str] = []

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                shown_key = redact_text(str(key))
                child = key_path(path, shown_key)
                if shown_key != key:
                    paths.append(child)
                    shown_key = f"{REDACTED}#{len(out)}"
                if is_secret_key(str(key)) and item not in (None, "", [], {}):
                    paths.append(child)
                    out[shown_key] = REDACTED
                else:
                    out[shown_key] = clean(item, child)
            return out
        if isinstance(value, list | tuple):
            return [clean(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, str):
            shown = redact_text(value)
            if shown != value:
                paths.append(path)
            return shown
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            shown_number = _redact_cards(str(value))
            if shown_number != str(value):
                paths.append(path)
                return REDACTED
        return value

    public = clean(params, "params")
    return public, paths
