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

The package: ``keys`` (which key names are secret), ``values`` (secret-looking values and
the replacing of spans), ``known`` (known secret values in free text), ``walk`` (the public
copy of params); here, the public functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from proofqueue.domain.sanitize.keys import is_secret_key
from proofqueue.domain.sanitize.known import _known_spans
from proofqueue.domain.sanitize.values import _USERINFO, REDACTED, _apply, _pattern_spans
from proofqueue.domain.sanitize.walk import (
    _is_card_float,
    _is_pair_list,
    _named_secret_keys,
    _names_a_secret,
    sanitize_walk,
)

__all__ = ["REDACTED", "is_secret_key", "redact_text", "redact_url", "sanitize", "secret_values"]


def redact_text(text: str, known_secrets: Iterable[str] = ()) -> str:
    """Redact secret-looking substrings and any of ``known_secrets`` from free text.

    A known secret is found also JSON-escaped (once or twice), percent-encoded or
    HTML-escaped; a fragment of it of 8 characters or more is redacted wherever it occurs,
    and of 4 or more at the very end (or start) of a text cut off in the middle of it."""
    spans = _pattern_spans(text)
    if known_secrets:
        spans.extend(_known_spans(text, known_secrets))
    return _apply(text, spans) if spans else text


def redact_url(url: str) -> str:
    """The URL as it may be printed: userinfo (``user:password@``, even with a raw '@' in the
    password) and credential query parameters replaced; scheme, host, path kept."""
    return _apply(url, [*(m.span() for m in _USERINFO.finditer(url)), *_pattern_spans(url)])


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
        elif isinstance(value, float) and _is_card_float(value):
            found.add(str(value))

    walk(params)
    return {s for s in found if len(s) >= 3}


def sanitize(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return a public copy of ``params`` and the paths that were redacted."""
    return sanitize_walk(params)
