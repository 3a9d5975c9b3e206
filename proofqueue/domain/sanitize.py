"""Redaction of secrets from anything shown in public: receipts, CLI output, logs, views.

A value is redacted when its key looks like a secret (password, token, api_key, apitoken,
cvv, ...), when a sibling names it as one (``["Authorization", value]``,
``{"name": "X-Api-Key", "value": value}``), or when the value itself looks like one (Basic
and Bearer credentials, JWTs, Luhn-valid card numbers, long hex keys, PEM and PGP private
keys, well-known token prefixes, credentials inside URLs: user:password@ and query
parameters such as ``?api_key=``). Keys are kept, so the shape of the params stays visible.

``redact_text`` also removes known secret values from free text (vendor messages that echo
the request): in JSON-escaped, percent-encoded or HTML-escaped form too, and partly, when the
text was cut in the middle of one or shows a long enough fragment of one.
"""

from __future__ import annotations

import base64
import binascii
import html
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from proofqueue.domain.canonical import key_path

REDACTED = "[REDACTED]"

Span = tuple[int, int]

# -- secret keys ----------------------------------------------------------------------------

# A key is secret when one of its words is, or two adjacent words are (``api_key``,
# ``cardNumber``), or one word ends with a secret word or pair (``apitoken``,
# ``awssecretaccesskey``). Words, not substrings: ``business_name`` holds no "ssn",
# ``max_tokens`` is not a token, ``tokenizer`` and ``secretary`` are no secrets.
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
# Endings that make a run-together word secret (``dbpassword``, ``clientsecret``). Short
# words (pin, pan, ssn, otp, auth, seed) are left out: ``spinner``, ``japan``.
_SECRET_ENDINGS = tuple(
    sorted(
        {
            "password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey",
            "credential", "credentials", "mnemonic", "sessionid", "cardnumber", "creditcard",
        }
        | {a + b for a, b in _SECRET_PAIRS}
    )
)  # fmt: skip
# Beginnings with what may follow them (``passwordhash``; not ``passwordless``).
_SECRET_STARTS = ("password", "passwd", "passphrase", "secret", "apikey", "privatekey")
_SECRET_START_TAILS = frozenset(
    {"hash", "hashed", "digest", "salt", "confirm", "confirmation", "key", "keys", "value"}
)
# "token" followed by one of these counts language-model tokens: ``token_limit``.
_TOKEN_AMOUNTS = frozenset({"count", "counts", "limit", "limits", "budget", "usage", "type"})
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def _words(key: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(key)]


def _is_run_together_secret(word: str) -> bool:
    if word.endswith(_SECRET_ENDINGS):
        return True
    return any(
        word.startswith(start) and word[len(start) :] in _SECRET_START_TAILS
        for start in _SECRET_STARTS
    )


def is_secret_key(key: str) -> bool:
    words = _words(key)
    if "".join(words) in _SECRET_KEYS_EXACT | _SECRET_WORDS:
        return True
    for i, word in enumerate(words):
        if word == "token" and i + 1 < len(words) and words[i + 1] in _TOKEN_AMOUNTS:
            continue
        if word in _SECRET_WORDS or _is_run_together_secret(word):
            return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


# Query parameter names that are credentials in a URL though not as a params key: the
# signature of a presigned URL is the credential itself.
_QUERY_SECRET_WORDS = frozenset({"sig", "signature", "pass", "hmac"})


def _is_secret_param(name: str) -> bool:
    return is_secret_key(name) or any(w in _QUERY_SECRET_WORDS for w in _words(name))


# -- secret-looking values ------------------------------------------------------------------

# Redacted whole wherever they occur.
_SECRET_VALUE = re.compile(
    "|".join(
        (
            r"(?i:\bbearer\s+)[^\s\"'<>,;()\[\]{}\\]{8,}",
            r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            # PEM, OpenSSH, SSH2 and PGP private keys; to the end of the text when cut off.
            r"(?s:-{4,5} ?BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}.*?"
            r"(?:-{4,5} ?END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}|$))",
            r"\b(?:0x)?[0-9a-fA-F]{64,}\b",
            r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}",
            r"\bsk-[A-Za-z0-9_-]{16,}",
            r"\bgh[pousr]_[A-Za-z0-9]{20,}",
            r"\bgithub_pat_[A-Za-z0-9_]{20,}",
            r"\bglpat-[A-Za-z0-9_-]{20,}",
            r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
            r"\bAIza[0-9A-Za-z_-]{35}",
            # user:password@ after a scheme; the password may hold '@' or '/' (the host is
            # what follows the last '@'); "host:8443/path/@me" is a port, not a password.
            r"(?<=://)[^\s/?#@:\[\]\"'<>]*:(?!\d*(?:[/?#\"'<>\s]|$))[^\s\"'<>]*?"
            r"(?=@[^\s@/?#\"'<>]*(?:[/?#\"'<>\s]|$))",
        )
    )
)
# Any userinfo of a URL (also a lone user name, which may be a token): for redact_url.
_USERINFO = re.compile(
    r"(?<=://)[^\s/?#@:\[\]\"'<>]*(?::(?!\d*(?:[/?#\"'<>\s]|$))[^\s\"'<>]*?)?"
    r"(?=@[^\s@/?#\"'<>]*(?:[/?#\"'<>\s]|$))"
)
# name=value in a query string, a fragment or a form body: the value, if the name is secret.
_QUERY_PARAM = re.compile(r"[?&#;](?P<name>[A-Za-z0-9_.\-\[\]%]+)=(?P<value>[^&#;\s\"'<>\\]+)")
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
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]+(?:[ -][0-9]+)*(?![0-9A-Za-z])")
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


def _pattern_spans(text: str) -> list[Span]:
    """Spans of ``text`` that look like secrets by their shape or by the name next to them."""
    spans = [m.span() for m in _SECRET_VALUE.finditer(text)]
    for m in _QUERY_PARAM.finditer(text):
        if _is_secret_param(m["name"]):
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


# -- known secrets in free text -------------------------------------------------------------

# A fragment of a known secret this long is redacted wherever it occurs; a text cut off in
# the middle of a secret loses the secret's beginning from this many characters on.
_FRAGMENT = 8
_CUT = 4

# A decoded view of a text: its characters, and for each the span of the text it came from.
_View = tuple[str, list[Span]]

_JSON_ESCAPE = re.compile(r"(?:\\u[0-9a-fA-F]{4})+|\\[\"\\/bfnrt]")
_JSON_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r"}
_JSON_SIMPLE["t"] = "\t"
_PERCENT_ESCAPE = re.compile(r"(?:%[0-9A-Fa-f]{2})+|\+")
_HTML_ESCAPE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});")
# What a cut-off text may end with after the cut: an ellipsis, white space, half an escape.
_CUT_TAIL = re.compile(r"(?:\\(?:u[0-9a-fA-F]{0,3})?|%[0-9A-Fa-f]?|&#?[A-Za-z0-9]*)?[.…\s]*$")


def _json_unescape(escape: str) -> str:
    if escape[1] != "u":
        return _JSON_SIMPLE[escape[1]]
    units = bytes.fromhex("".join(escape[i + 2 : i + 6] for i in range(0, len(escape), 6)))
    return units.decode("utf-16-be", "surrogatepass")


def _percent_unescape(escape: str) -> str:
    if escape == "+":
        return " "
    return bytes.fromhex(escape.replace("%", "")).decode("utf-8", "replace")


def _decode(view: _View, escape: re.Pattern[str], unescape: Callable[[str], str]) -> _View:
    text, origin = view
    chars: list[str] = []
    spans: list[Span] = []
    done = 0
    for m in escape.finditer(text):
        chars.append(text[done : m.start()])
        spans.extend(origin[done : m.start()])
        decoded = unescape(m.group(0))
        chars.append(decoded)
        spans.extend([(origin[m.start()][0], origin[m.end() - 1][1])] * len(decoded))
        done = m.end()
    chars.append(text[done:])
    spans.extend(origin[done:])
    return "".join(chars), spans


def _views(text: str) -> Iterator[_View]:
    """The text as it is, JSON-unescaped once and twice, percent-decoded, HTML-unescaped."""
    raw: _View = (text, [(i, i + 1) for i in range(len(text))])
    yield raw
    if "\\" in text:
        once = _decode(raw, _JSON_ESCAPE, _json_unescape)
        yield once
        if "\\" in once[0]:
            yield _decode(once, _JSON_ESCAPE, _json_unescape)
    if "%" in text or "+" in text:
        yield _decode(raw, _PERCENT_ESCAPE, _percent_unescape)
    if "&" in text:
        yield _decode(raw, _HTML_ESCAPE, html.unescape)


def _known_spans(text: str, known_secrets: Iterable[str]) -> list[Span]:
    secrets = sorted({s for s in known_secrets if s}, key=len, reverse=True)
    if not secrets:
        return []
    grams = {s[i : i + _FRAGMENT] for s in secrets for i in range(len(s) - _FRAGMENT + 1)}
    spans: list[Span] = []
    for view, origin in _views(text):
        found: list[Span] = []
        for secret in secrets:
            at = view.find(secret)
            while at >= 0:
                found.append((at, at + len(secret)))
                at = view.find(secret, at + 1)
        if grams:
            found.extend(
                (i, i + _FRAGMENT)
                for i in range(len(view) - _FRAGMENT + 1)
                if view[i : i + _FRAGMENT] in grams
            )
        # Cut off: the text ends with a secret's beginning, or starts with its end.
        tail = _CUT_TAIL.search(view)
        ends = range(tail.start() if tail else len(view), len(view) + 1)
        begin = len(view) - len(view.lstrip())
        for secret in secrets:
            for size in range(_CUT, min(len(secret), _FRAGMENT)):
                head = secret[:size]
                found.extend((end - size, end) for end in ends if view.endswith(head, 0, end))
                if view.startswith(secret[-size:], begin):
                    found.append((begin, begin + size))
        spans.extend((origin[a][0], origin[b - 1][1]) for a, b in found if a < b)
    return spans


# -- public functions -----------------------------------------------------------------------


def redact_text(text: str, known_secrets: Iterable[str] = ()) -> str:
    """Redact secret-looking substrings and any of ``known_secrets`` from free text.

    A known secret is found also JSON-escaped (once or twice), percent-encoded or
    HTML-escaped; a fragment of it of 8 characters or more is redacted wherever it occurs,
    and of 4 or more at the very end (or start) of a text cut off in the middle of it."""
    return _apply(text, [*_known_spans(text, known_secrets), *_pattern_spans(text)])


def redact_url(url: str) -> str:
    """The URL as it may be printed: userinfo (``user:password@``, even with a raw '@' in the
    password) and credential query parameters replaced; scheme, host, path kept."""
    return _apply(url, [*(m.span() for m in _USERINFO.finditer(url)), *_pattern_spans(url)])


# Keys that name their sibling "value" (HAR and Postman header lists, form field lists).
_NAME_KEYS = frozenset({"name", "key", "header", "field", "param", "parameter"})
_VALUE_KEYS = frozenset({"value", "values"})
# A header or field name: one identifier, no spaces ("Password manager" is a product).
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def _names_a_secret(name: Any) -> bool:
    return isinstance(name, str) and bool(_IDENTIFIER.fullmatch(name)) and is_secret_key(name)


def _named_secret_keys(mapping: Mapping[Any, Any]) -> set[Any]:
    """The value keys of ``{"name": "Authorization", "value": ...}``, when the name is secret."""
    if not any(str(k).lower() in _NAME_KEYS and _names_a_secret(v) for k, v in mapping.items()):
        return set()
    return {k for k in mapping if str(k).lower() in _VALUE_KEYS}


def _is_pair_list(value: list[Any] | tuple[Any, ...]) -> bool:
    """[["Accept", "json"], ["Authorization", "..."]]: a list of name-value pairs."""
    return bool(value) and all(
        isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str)
        for item in value
    )


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


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
    """Every scalar held under a secret-looking key or named secret by a sibling, and every
    secret-looking part of a string, as text (to redact vendor echoes)."""
    found: set[str] = set()

    def in_text(text: str) -> None:
        found.update(text[a:b] for a, b in _pattern_spans(text))

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            named = _named_secret_keys(value)
            for key, item in value.items():
                in_text(str(key))
                if is_secret_key(str(key)) or key in named:
                    found.update(_scalar_secrets(item))
                else:
                    walk(item)
        elif isinstance(value, list | tuple):
            pairs = _is_pair_list(value)
            for item in value:
                if pairs and _names_a_secret(item[0]):
                    found.update(_scalar_secrets(item[1]))
                else:
                    walk(item)
        elif isinstance(value, str):
            in_text(value)

    walk(params)
    return {s for s in found if len(s) >= 3}


def sanitize(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return a public copy of ``params`` and the paths that were redacted."""
    paths: list[str] = []

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            named = _named_secret_keys(value)
            out: dict[str, Any] = {}
            for key, item in value.items():
                shown_key = redact_text(str(key))
                child = key_path(path, shown_key)
                if shown_key != key:
                    paths.append(child)
                    shown_key = f"{REDACTED}#{len(out)}"
                if (is_secret_key(str(key)) or key in named) and not _empty(item):
                    paths.append(child)
                    out[shown_key] = REDACTED
                else:
                    out[shown_key] = clean(item, child)
            return out
        if isinstance(value, list | tuple):
            pairs = _is_pair_list(value)
            items: list[Any] = []
            for i, item in enumerate(value):
                at = f"{path}[{i}]"
                if pairs and _names_a_secret(item[0]) and not _empty(item[1]):
                    paths.append(f"{at}[1]")
                    items.append([clean(item[0], f"{at}[0]"), REDACTED])
                else:
                    items.append(clean(item, at))
            return items
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
