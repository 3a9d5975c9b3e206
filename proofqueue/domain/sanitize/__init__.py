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
the replacing of spans), ``known`` (known secret values in free text); here, the public
functions and the walk over params.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from proofqueue.domain.canonical import key_path
from proofqueue.domain.sanitize.keys import is_secret_key
from proofqueue.domain.sanitize.known import _known_spans
from proofqueue.domain.sanitize.values import (
    _USERINFO,
    REDACTED,
    _apply,
    _pattern_spans,
    _redact_cards,
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


def _is_card_float(value: float) -> bool:
    """A card number written as a float (``4111111111111111.0``, ``4.111111111111111e15``)."""
    if not (10**12 <= value < 10**20 and value.is_integer()):
        return False
    digits = str(int(value))
    return _redact_cards(digits) != digits


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
        # A card number has 13 digits at least.
        if isinstance(value, int) and not isinstance(value, bool) and value >= 10**12:
            shown_number = _redact_cards(str(value))
            if shown_number != str(value):
                paths.append(path)
                return REDACTED
        if isinstance(value, float) and _is_card_float(value):
            paths.append(path)
            return REDACTED
        return value

    public = clean(params, "params")
    return public, paths
