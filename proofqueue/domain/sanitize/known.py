"""Known secret values in free text: where a text shows one, or a part of one.

A known secret is looked for as it is and in decoded views of the text (JSON-unescaped once
and twice, percent-decoded, HTML-unescaped), as a fragment of ``_FRAGMENT`` characters or
more, and as a beginning (or end) of ``_CUT`` characters or more where the text was cut off.
``_known_spans`` returns the spans of the original text to redact.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator

from proofqueue.domain.sanitize.shapes import Span

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
