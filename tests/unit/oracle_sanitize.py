"""The oracle for ``sanitize`` and ``secret_values``: their implementation before the one-walk
rewrite, with the gate of that time in front of the secret patterns (a copy, kept as it was;
``test_sanitize_differential`` compares the two)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from proofqueue.domain.canonical import key_path
from proofqueue.domain.sanitize.keys import is_secret_key
from proofqueue.domain.sanitize.shapes import _HEX_KEY, Span
from proofqueue.domain.sanitize.values import (
    _CARD_DIGITS,
    _MARKS,
    REDACTED,
    _all_pattern_spans,
    _apply,
    _redact_cards,
)


def _may_hold_secret(text: str) -> bool:
    if not _MARKS.isdisjoint(text):
        return True
    lower = text.lower()
    if "bearer" in lower or "authorization" in lower or "basic" in lower:
        return True
    if "eyJ" in text or "AKIA" in text or "ASIA" in text or "AIza" in text:
        return True
    return _HEX_KEY.search(text) is not None or _CARD_DIGITS.search(text) is not None


def _pattern_spans(text: str) -> list[Span]:
    if not _may_hold_secret(text):
        return []
    return _all_pattern_spans(text)


def redact_text(text: str) -> str:
    """Redact secret-looking substrings (the old gate, then every pattern)."""
    spans = _pattern_spans(text)
    return _apply(text, spans) if spans else text


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
