"""Secret-looking values, found by their shape or by the name next to them.

The shapes (``shapes``: Bearer tokens, JWTs, PEM/OpenSSH/PGP private keys, long hex keys,
well-known token prefixes, user:password@ in URLs), secret query parameters and quoted
name-value pairs, Authorization and header lines, Basic credentials that decode to
``user:password``, and Luhn-valid card numbers. ``_pattern_spans`` finds them in a text;
``_apply`` replaces spans with ``REDACTED``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from proofqueue.domain.sanitize.keys import _is_secret_param, is_secret_key
from proofqueue.domain.sanitize.shapes import _HEX_KEY, _SECRET_VALUE, Span, _shape_spans

REDACTED = "[REDACTED]"


# Any userinfo of a URL (also a lone user name, which may be a token): for redact_url.
_USERINFO = re.compile(
    r"(?<=://)[^\s/?#@:\[\]\"'<>]*(?::(?!\d*(?:[/?#\"'<>\s]|$))[^\s\"'<>]*?)?"
    r"(?=@[^\s@/?#\"'<>]*(?:[/?#\"'<>\s]|$))"
)
# name=value in a query string, a fragment or a form body: the value, if the name is secret.
_QUERY_PARAM = re.compile(r"[?&#;](?P<name>[A-Za-z0-9_.\-\[\]%]+)=(?P<value>[^&#;\s\"'<>\\]+)")
# name=value at the start of a text or after white space (a form body's first field, a line
# of an env file, prose): the value, if the name is a secret key.
_BARE_PAIR = re.compile(
    r"(?:^|(?<=\s))(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,63})=(?P<value>[^=&#;\s\"'<>\\][^&#;\s\"'<>\\]*)"
)
# "name": "value" / 'name': 'value' / name="value" (JSON, Python reprs, kwargs, attributes).
_QUOTED_PAIR = re.compile(
    r"(?P<q1>[\"'])(?P<name>[A-Za-z0-9_.\- ]{1,64})(?P=q1)\s*:\s*"
    r"(?P<q2>[\"'])(?P<value>(?:(?!(?P=q2))[^\\\n]|\\.)+)(?P=q2)"
    r"|(?<![\w.-])(?P<bname>[A-Za-z_][A-Za-z0-9_.-]{0,63})=(?P<q3>[\"'])"
    r"(?P<bvalue>(?:(?!(?P=q3))[^\\\n]|\\.)+)(?P=q3)"
)
# Authorization: <scheme> <credentials>, however short the credentials.
_AUTHORIZATION = re.compile(
    r"(?i:\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?"
    r"(?:bearer|basic|token|digest|negotiate|ntlm|apikey|api-key|key|sso-key|hoba|mutual"
    r"|aws4-hmac-sha256)\s+)(?P<value>[^\s\"'<>\\]+)"
)
# X-Api-Key: value, Cookie: a=b; c=d (header lines): to the end of the line.
_HEADER_LINE = re.compile(
    r"(?i:\b(?P<name>x-[a-z0-9-]+|api-key|(?:set-)?cookie)):[ \t]*(?P<value>[^\r\n\"'<>\\]+)"
)
# Basic <base64 of user:password>: only when it decodes to printable text with a colon, so
# "basic information" is not taken for a credential.
_BASIC = re.compile(r"\b[Bb]asic\s+(?P<value>[A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])")

# Runs of digit groups separated by single spaces or dashes, not touching letters or digits
# (so the digits inside a hex string or a longer number are not candidates).
# A run of digit groups, not part of a word or of a decimal number (256.2706380092932 holds
# no card number).
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z.])[0-9]+(?:[ -][0-9]+)*(?![0-9A-Za-z]|\.[0-9])")
# Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners,
# UnionPay, Maestro): a Luhn-valid number without one is not taken for a card.
_CARD_PREFIX = re.compile(r"4|5[0-8]|2[2-7]|3[4-9]|30[0-5]|6")


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


def _card_spans(run: str) -> list[Span]:
    """Spans of ``run`` (digit groups) that are card numbers: whole groups only."""
    groups = [(m.start(), m.end()) for m in re.finditer(r"[0-9]+", run)]
    spans: list[Span] = []
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


def _is_basic_credential(value: str) -> bool:
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


# What every pattern above needs somewhere in a match: one of these marks (a separator, a
# quote, a prefix's '-' or '_'), one of these words, 13 digits or 64 hex digits. A text with
# none holds no secret by its shape, and most params values are such texts.
# ``tests/unit/test_sanitize_gate.py`` checks, on text generated from the patterns' own
# pieces, that the gate never turns away a text the patterns match.
_MARKS = frozenset("=\"':_-")
_CARD_DIGITS = re.compile(r"[0-9](?:[ -]?[0-9]){12}")


def _may_hold_secret(text: str) -> bool:
    """Whether any pattern may match ``text``: a mark, or a hint of an unmarked secret."""
    # The marks one by one: cheaper than a set's walk over the text (``_MARKS``).
    if "=" in text or '"' in text or "'" in text or ":" in text or "_" in text or "-" in text:
        return True
    return _unmarked_hint(text)


def _unmarked_hint(text: str) -> bool:
    """What a secret without any of ``_MARKS`` holds: a word, a prefix, 64 hex digits, or 13
    digits in a row (single spaces between them allowed)."""
    lower = text.lower()
    if "bearer" in lower or "authorization" in lower or "basic" in lower:
        return True
    if "eyJ" in text or "AKIA" in text or "ASIA" in text or "AIza" in text:
        return True
    if len(text) >= 64 and _HEX_KEY.search(text) is not None:
        return True
    return len(text) >= 13 and _has_digit(text) and _CARD_DIGITS.search(text) is not None


def _has_digit(text: str) -> bool:
    for digit in "0123456789":  # noqa: SIM110  (ten searches in C: cheaper than any())
        if digit in text:
            return True
    return False


def _pattern_spans(text: str) -> list[Span]:
    """Spans of ``text`` that look like secrets by their shape or by the name next to them.

    The same list as ``_all_pattern_spans``, each pattern run only on a text that has what
    every match of it needs: a shape's hint, '=' (a query, bare or quoted pair), ':' or '='
    (Authorization), ':' (a header line), a quote (a quoted pair), "asic" (Basic) or 13
    digits in a row (a card). Most values have none of these, many only a '-' or '_'."""
    if not _may_hold_secret(text):
        return []
    equals = "=" in text
    colon = ":" in text
    spans = _shape_spans(text)
    if equals:
        for m in _QUERY_PARAM.finditer(text):
            if _is_secret_param(m["name"]):
                spans.append(m.span("value"))
        for m in _BARE_PAIR.finditer(text):
            if is_secret_key(m["name"]):
                spans.append(m.span("value"))
    if (equals or colon) and ('"' in text or "'" in text):
        for m in _QUOTED_PAIR.finditer(text):
            if m["name"] is not None and is_secret_key(m["name"]):
                spans.append(m.span("value"))
            elif m["bname"] is not None and is_secret_key(m["bname"]):
                spans.append(m.span("bvalue"))
    if equals or colon:
        spans.extend(m.span("value") for m in _AUTHORIZATION.finditer(text))
    if colon:
        for m in _HEADER_LINE.finditer(text):
            if m["value"].strip() and is_secret_key(m["name"]):
                spans.append(m.span("value"))
    if "asic" in text:
        for m in _BASIC.finditer(text):
            if _is_basic_credential(m["value"]):
                spans.append(m.span())
    if len(text) >= 13 and _has_digit(text) and _CARD_DIGITS.search(text) is not None:
        for m in _DIGIT_RUN.finditer(text):
            spans.extend((m.start() + a, m.start() + b) for a, b in _card_spans(m.group(0)))
    return spans


def _all_pattern_spans(text: str) -> list[Span]:
    """``_pattern_spans`` without the gates: every pattern run over the whole text (what the
    gated one is held to by ``tests/unit/test_sanitize_gate.py``)."""
    spans = [m.span() for m in _SECRET_VALUE.finditer(text)]
    for m in _QUERY_PARAM.finditer(text):
        if _is_secret_param(m["name"]):
            spans.append(m.span("value"))
    for m in _BARE_PAIR.finditer(text):
        if is_secret_key(m["name"]):
            spans.append(m.span("value"))
    for m in _QUOTED_PAIR.finditer(text):
        if m["name"] is not None and is_secret_key(m["name"]):
            spans.append(m.span("value"))
        elif m["bname"] is not None and is_secret_key(m["bname"]):
            spans.append(m.span("bvalue"))
    spans.extend(m.span("value") for m in _AUTHORIZATION.finditer(text))
    for m in _HEADER_LINE.finditer(text):
        if m["value"].strip() and is_secret_key(m["name"]):
            spans.append(m.span("value"))
    for m in _BASIC.finditer(text):
        if _is_basic_credential(m["value"]):
            spans.append(m.span())
    for m in _DIGIT_RUN.finditer(text):
        spans.extend((m.start() + a, m.start() + b) for a, b in _card_spans(m.group(0)))
    return spans


def _apply(text: str, spans: Iterable[Span]) -> str:
    """``text`` with each span (overlapping ones merged) replaced by REDACTED."""
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    done = 0
    for start, end in merged:
        out.append(text[done:start])
        out.append(REDACTED)
        done = end
    out.append(text[done:])
    return "".join(out)


def _redact_cards(text: str) -> str:
    return _apply(
        text,
        (
            (m.start() + a, m.start() + b)
            for m in _DIGIT_RUN.finditer(text)
            for a, b in _card_spans(m.group(0))
        ),
    )
