"""The canonical encoding the proof hash is computed over.

JSON with sorted keys, no insignificant white space, ASCII only and no NaN or infinity. Only
JSON's own types are accepted (None, bool, int, float, str, lists, str-keyed dicts; tuples
encode as lists), so two different values never share an encoding and the same value always
has one. Times are carried as ISO 8601 strings by the events themselves.
"""

from __future__ import annotations

import json
from typing import Any

from proofqueue.domain.errors import InvalidInput


def canonical(value: Any) -> bytes:
    """Encode ``value`` canonically; raise InvalidInput for anything outside JSON's types."""
    check_json(value, "$")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def check_json(value: Any, path: str) -> None:
    """Raise InvalidInput naming the first part of ``value`` that is not plain JSON."""
    _check(value, path, 0)


def _check(value: Any, path: str, depth: int) -> None:
    if depth > 64:
        raise InvalidInput(path, "nested too deeply to encode")
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidInput(path, "NaN and infinity have no canonical encoding")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(path, f"key {key!r} is not a string")
            _check(item, f"{path}.{key}", depth + 1)
        return
    raise InvalidInput(path, f"{type(value).__name__} has no canonical encoding")
