"""The log's fast path for writing: an event's state encoded by msgspec (the ``fast``
extra), to JSON that the transcoder reads back as exactly the same values, or None whenever
anything is unusual, and eventsourcing's transcoder encodes it as usual (``Transcoder``).

Usual means: every value is a datetime (written as the transcoder writes it,
``{"_type_": "datetime_iso", "_data_": ...}``) or plain JSON: str, int, bool, None, finite
floats, lists, tuples and dicts with str keys, no subclass anywhere. msgspec and the
standard library may write a float in another form (1e-05 against 0.00001), but both
write its shortest round-trip digits, so it reads back as the same float.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

_encode: Callable[[Any], bytes] | None
try:
    from msgspec.json import Encoder

    _encode = Encoder().encode  # keys in the dict's own order, as the transcoder writes them
except ImportError:  # pragma: no cover  (the transcoder only)
    _encode = None

# The real datetime class, held in a tuple (a test's clock patcher replaces module
# attributes that are datetime).
_DATETIME = (datetime,)
_isfinite = math.isfinite


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return _isfinite(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) is not str and not _plain(item)):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:  # noqa: SIM110  (a loop: cheaper than all() here)
            if type(item) is not str and not _plain(item):
                return False
        return True
    return False


def encode(state: dict[str, Any]) -> bytes | None:
    """``state`` as JSON bytes the transcoder reads back the same; None when unusual."""
    if _encode is None:
        return None
    out: dict[str, Any] = {}
    moment = _DATETIME[0]
    for key, value in state.items():
        if type(value) is moment:
            out[key] = {"_type_": "datetime_iso", "_data_": value.isoformat()}
        elif _plain(value):
            out[key] = value
        else:
            return None
    try:
        return _encode(out)
    except UnicodeEncodeError:  # a lone surrogate: the transcoder says what is wrong
        return None


class Transcoder(JSONTranscoder):
    """eventsourcing's JSON transcoder with its usual transcodings (UUIDs, decimals,
    datetimes as ISO 8601), encoding the usual state by ``encode`` above."""

    def __init__(self) -> None:
        super().__init__()
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            self.register(transcoding)

    def encode(self, obj: Any) -> bytes:
        fast = encode(obj) if type(obj) is dict else None
        return fast if fast is not None else super().encode(obj)
