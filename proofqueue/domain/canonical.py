"""The canonical encoding the proof hash is computed over.

JSON with sorted keys, no insignificant white space, ASCII only and no NaN or infinity. Only
JSON's own types are accepted (None, bool, int, float, str, lists, str-keyed dicts; tuples
encode as lists), so two different values never share an encoding and the same value always
has one. Event times are hashed as their ISO 8601 text (``proof.event_hash``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from proofqueue.domain.errors import InvalidInput

_fast: Callable[[Any], bytes] | None
try:  # the same bytes, several times faster, when installed (the ``fast`` extra)
    from msgspec.json import Encoder

    _fast = Encoder(order="sorted").encode
except ImportError:  # pragma: no cover  (the standard library's encoder only)
    _fast = None


def _floatless(value: Any) -> bool:
    """Whether ``value`` is built of str, int, bool, None, dicts, lists and tuples only (no
    float, no subclass): where msgspec writes what the standard library writes, as long as
    the text is printable ASCII. Both write a float's same digits, but not always in the
    same form (1e-05 against 0.00001), so floats go to the standard library."""
    kind = type(value)
    if kind is dict:
        for item in value.values():  # noqa: SIM110  (a loop: cheaper than all() here)
            if type(item) is not str and not _floatless(item):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:  # noqa: SIM110  (a loop: cheaper than all() here)
            if type(item) is not str and not _floatless(item):
                return False
        return True
    return kind is str or kind is int or kind is bool or value is None


def canonical(value: Any) -> bytes:
    """Encode ``value`` canonically; raise InvalidInput for anything outside JSON's types."""
    check_json(value, "$")
    return encode_checked(value)


def encode_checked(value: Any) -> bytes:
    """The canonical encoding of a value ``check_json`` has already accepted (no NaN,
    infinity or type outside JSON's: msgspec would encode those where the standard library
    refuses them)."""
    if _fast is not None and _floatless(value):
        try:
            encoded = _fast(value)
        except UnicodeEncodeError:
            pass  # a lone surrogate: the standard library escapes it
        else:
            # Only printable ASCII: nothing either would escape differently.
            if encoded.isascii() and b"\x7f" not in encoded:
                return encoded
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_INT_BITS = 4096  # about 1,200 digits: far beyond any real amount, far below str's limit


def key_path(path: str, key: str) -> str:
    """The path of ``key`` under ``path``, safe to print on one line: plain keys as
    ``path.key``, any other quoted and cut short as ``path["k\\n..."]``."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}"
    quoted = json.dumps(key[:64] + ("..." if len(key) > 64 else ""), ensure_ascii=True)
    return f"{path}[{quoted}]"


def _plain(value: Any, depth: int) -> bool:
    """Whether ``check_json`` would accept ``value``: the same rules, without building the
    path of every key (only a refusal needs it)."""
    if depth > 64:
        return False
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                return False
            if (type(item) is not str or depth >= 64) and not _plain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        return all((type(item) is str and depth < 64) or _plain(item, depth + 1) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() <= MAX_INT_BITS
    if isinstance(value, float):
        return not (value != value or value in (float("inf"), float("-inf")))
    if isinstance(value, bool | str):
        return True
    if isinstance(value, list | tuple | dict):
        return False  # a subclass: let the full check decide (and name it)
    return False


def check_json(value: Any, path: str) -> None:
    """Raise InvalidInput naming the first part of ``value`` that is not plain JSON."""
    if not _plain(value, 0):  # the walk that names the part is only needed for a refusal
        _check(value, path, 0)


def _check(value: Any, path: str, depth: int) -> None:
    if depth > 64:
        raise InvalidInput(path, "nested too deeply to encode")
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_BITS:
            raise InvalidInput(path, "number too large")
        return
    if value is None or isinstance(value, bool | str):
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
                raise InvalidInput(path, f"a key of type {type(key).__name__} is not a string")
            _check(item, key_path(path, key), depth + 1)
        return
    raise InvalidInput(path, f"{type(value).__name__} has no canonical encoding")
