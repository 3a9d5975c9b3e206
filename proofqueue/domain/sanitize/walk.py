"""The walk over params that makes their public copy: ``sanitize``.

One pass: every key judged once per process (remembered while the same names come again),
every text through the patterns' gates, numbers only from 13 digits on; the path of a value
(``params.headers[1][1]``) is put together only when something is redacted, from a chain of
``(parent, key or index)`` built on the way down. Dicts, lists and tuples of their own type
with ``str`` keys take the short way; anything else (a Mapping subclass, a key that is not a
``str``) is judged as ``str(key)``, as the walk always did.
``tests/unit/test_sanitize_differential.py`` holds it to the walk it replaced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from proofqueue.domain.canonical import key_path
from proofqueue.domain.sanitize.keys import is_secret_key
from proofqueue.domain.sanitize.values import REDACTED, _apply, _pattern_spans, _redact_cards

# Keys that name their sibling "value" (HAR and Postman header lists, form field lists).
_NAME_KEYS = frozenset({"name", "key", "header", "field", "param", "parameter"})
_VALUE_KEYS = frozenset({"value", "values"})
_LONGEST_NAME_KEY = max(map(len, _NAME_KEYS))  # lower() never shortens a text
# A header or field name: one identifier, no spaces ("Password manager" is a product).
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_CARD_LOW = 10**12  # a card number has 13 digits at least

# Where a value is: None for params itself, else (where its container is, key or index).
Where = tuple["Where", str | int] | None


def _path(where: Where) -> str:
    """``where`` as the path shown: ``params.a["b c"][2]``."""
    steps: list[str | int] = []
    while where is not None:
        where, step = where
        steps.append(step)
    path = "params"
    for step in reversed(steps):
        path = f"{path}[{step}]" if type(step) is int else key_path(path, str(step))
    return path


def _redacted(text: str) -> str:
    spans = _pattern_spans(text)
    return _apply(text, spans) if spans else text


# A key as it is shown (its secret-looking parts redacted) and whether it names a secret.
_KEYS: dict[str, tuple[str, bool]] = {}
_KEYS_KEPT = 4096


def _judge_key(text: str) -> tuple[str, bool]:
    """``text`` as shown and whether it names a secret, remembered in ``_KEYS`` when short
    (the walk looks there first)."""
    judged = (_redacted(text), is_secret_key(text))
    if len(text) <= 64:  # the same few names come again and again: remembered
        if len(_KEYS) >= _KEYS_KEPT:
            _KEYS.clear()
        _KEYS[text] = judged
    return judged


def _names_a_secret(name: Any) -> bool:
    return isinstance(name, str) and bool(_IDENTIFIER.fullmatch(name)) and is_secret_key(name)


def _named_secret_keys(mapping: Mapping[Any, Any]) -> set[Any]:
    """The value keys of ``{"name": "Authorization", "value": ...}``, when the name is secret."""
    for key, item in mapping.items():
        if type(key) is str:  # a name key is short: lower() never shortens a text
            if len(key) > _LONGEST_NAME_KEY or key.lower() not in _NAME_KEYS:
                continue
        elif str(key).lower() not in _NAME_KEYS:
            continue
        if _names_a_secret(item):
            return {k for k in mapping if str(k).lower() in _VALUE_KEYS}
    return set()


def _is_pair_list(value: list[Any] | tuple[Any, ...]) -> bool:
    """[["Accept", "json"], ["Authorization", "..."]]: a list of name-value pairs."""
    if not value:
        return False
    for item in value:
        if not (isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str)):
            return False
    return True


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


def _is_card_float(value: float) -> bool:
    """A card number written as a float (``4111111111111111.0``, ``4.111111111111111e15``)."""
    if not (10**12 <= value < 10**20 and value.is_integer()):
        return False
    digits = str(int(value))
    return _redact_cards(digits) != digits


def sanitize_walk(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The public copy of ``params`` and the paths redacted (``sanitize``)."""
    paths: list[str] = []
    public = _clean(params, None, paths)
    return public, paths


def _clean(value: Any, where: Where, paths: list[str]) -> Any:
    kind = type(value)
    if kind is str:
        spans = _pattern_spans(value)
        return _shown(value, spans, where, paths) if spans else value
    if kind is dict:
        return _clean_mapping(value, where, paths)
    if kind is int:
        return value if value < _CARD_LOW else _clean_number(value, where, paths)
    if kind is list or kind is tuple:
        return _clean_items(value, where, paths)
    if value is None or kind is bool:
        return value
    if kind is float:
        if _is_card_float(value):
            paths.append(_path(where))
            return REDACTED
        return value
    # Anything else, in the order of the checks the walk always made.
    if isinstance(value, Mapping):
        return _clean_mapping(value, where, paths)
    if isinstance(value, list | tuple):
        return _clean_items(value, where, paths)
    if isinstance(value, str):
        return _clean_text(value, where, paths)
    if isinstance(value, int) and not isinstance(value, bool) and value >= _CARD_LOW:
        return _clean_number(value, where, paths)
    if isinstance(value, float) and _is_card_float(value):
        paths.append(_path(where))
        return REDACTED
    return value


def _clean_text(text: str, where: Where, paths: list[str]) -> str:
    spans = _pattern_spans(text)
    return _shown(text, spans, where, paths) if spans else text


def _shown(text: str, spans: list[tuple[int, int]], where: Where, paths: list[str]) -> str:
    shown = _apply(text, spans)
    if shown != text:
        paths.append(_path(where))
    return shown


def _clean_number(number: int, where: Where, paths: list[str]) -> Any:
    digits = str(number)
    if _redact_cards(digits) != digits:
        paths.append(_path(where))
        return REDACTED
    return number


def _clean_mapping(mapping: Mapping[Any, Any], where: Where, paths: list[str]) -> dict[str, Any]:
    named = _named_secret_keys(mapping)
    out: dict[str, Any] = {}
    for key, item in mapping.items():
        if type(key) is str:
            shown_key, secret = _KEYS.get(key) or _judge_key(key)
        else:
            text = str(key)
            shown_key, secret = _redacted(text), is_secret_key(text)
        child: Where = (where, shown_key)
        if shown_key != key:
            paths.append(_path(child))
            shown_key = f"{REDACTED}#{len(out)}"
        if (secret or key in named) and not _empty(item):
            paths.append(_path(child))
            out[shown_key] = REDACTED
        else:
            out[shown_key] = _clean(item, child, paths)
    return out


def _clean_items(items: list[Any] | tuple[Any, ...], where: Where, paths: list[str]) -> list[Any]:
    pairs = _is_pair_list(items)
    out: list[Any] = []
    for i, item in enumerate(items):
        at: Where = (where, i)
        if pairs and _names_a_secret(item[0]) and not _empty(item[1]):
            paths.append(_path((at, 1)))
            out.append([_clean(item[0], (at, 0), paths), REDACTED])
        else:
            out.append(_clean(item, at, paths))
    return out
