"""What a caller may ask for: the validated shape of a new intent.

Every rule here raises ``InvalidInput`` naming the field, before anything is written.

``parse_request`` is plain Python (it was a strict pydantic model, and a submit paid for
building its validator call by call): the fields are checked in their order, each takes only
a ``str`` (a subclass as its plain text) and params only a ``dict`` (a new one is returned,
its keys plain ``str``); the first field refused is named. A problem inside params that
``check_json`` names by its path (NaN, a type outside JSON, a non-string key deeper in, a
lone surrogate) is raised even when an earlier field is refused, as the model did.
``tests/unit/test_request_differential.py`` holds the model's decisions and messages to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proofqueue.domain.canonical import check_json, encode_checked, key_path
from proofqueue.domain.errors import InvalidInput

MAX_PARAMS_BYTES = 64 * 1024
MAX_PARAMS_DEPTH = 16
MAX_ACTOR = 200
MAX_TARGET = 512

_SPACE = re.compile(r"\s")
# C0/C1 controls, line and paragraph separators, and the bidirectional controls that make
# text show in another order than it is stored (embeddings, overrides, isolates, marks).
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)
# Params as JSON for their size: compact, as stored.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _compact_encoder() -> Callable[[Any], str]:
    """``_COMPACT.encode`` without its setup in every call: the standard library's C encoder,
    made once. Made without circular-reference markers it keeps nothing between calls; a
    cycle cannot reach it (``check_json`` refuses nesting deeper than 64 levels first)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover  (a Python without the _json accelerator)
        return _COMPACT.encode
    encode = make(
        None, _COMPACT.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    return lambda value: "".join(encode(value, 0))


_compact = _compact_encoder()

_NOT_STR = "Input should be a valid string"
_NOT_UNICODE = "Input should be a valid string, unable to parse raw data as a unicode string"
_NOT_DICT = "Input should be a valid dictionary"


class _KeyRefused(ValueError):
    """A key of params that is not a string: ``field`` is where (``params.<key>.[key]``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


def _string(value: object) -> str:
    """``value`` if it is a ``str``; a subclass as its plain text; else ValueError."""
    if type(value) is str:
        return value
    if not isinstance(value, str):
        raise ValueError(_NOT_STR)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_NOT_UNICODE) from None
    return str.__str__(value)


def _plain_text(value: str, limit: int) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be empty")
    if value != stripped:
        raise ValueError("must not start or end with white space")
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters (got {len(value)})")
    # Printable text has no control character and no lone surrogate: the usual case, at once.
    if not value.isprintable():
        if _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("is not valid unicode (lone surrogate)") from None
    return value


def _request_id(value: object) -> str:
    text = _string(value)
    # 1-255 characters from '!' to '~': printable ASCII without the space.
    if not (0 < len(text) <= 255 and text.isascii() and text.isprintable() and " " not in text):
        raise ValueError(
            f"must be 1-255 printable ASCII characters without spaces (got {len(text)} characters)"
        )
    return text


def _target(value: object) -> str:
    text = _plain_text(_string(value), MAX_TARGET)
    provider, sep, offering = text.partition("/")
    if not sep or not provider.strip() or not offering.strip():
        raise ValueError("must be <provider>/<offering>, both non-empty")
    if _SPACE.search(provider):
        raise ValueError("provider must not contain white space")
    return text


def _shown_key(key: object) -> str:
    """How a refused key is named: an int by its digits (if it fits 64 bits), a string
    subclass by its text with U+FFFD for what is not unicode, anything else by its repr."""
    if isinstance(key, int) and -(2**63) <= key < 2**63:
        return str(int.__int__(key))
    if isinstance(key, str):
        return key.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    try:
        return repr(key)
    except Exception:  # any repr may fail; the key is named all the same
        return f"<unprintable {type(key).__name__} object>"


def _params_dict(value: object) -> dict[str, Any]:
    """A new dict of ``value``'s items, its keys plain ``str``; ValueError if it is not a
    dict or a key is not a string (_KeyRefused naming the first)."""
    if type(value) is dict:
        for key in value:  # a loop: cheaper than all() here
            if type(key) is not str:
                break
        else:
            return value.copy()
    elif not isinstance(value, dict):
        raise ValueError(_NOT_DICT)
    copied: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str:
            if not isinstance(key, str):
                raise _KeyRefused(f"params.{_shown_key(key)}.[key]", _NOT_STR)
            try:
                key.encode("utf-8")
            except UnicodeEncodeError:
                raise _KeyRefused(f"params.{_shown_key(key)}.[key]", _NOT_UNICODE) from None
            key = str.__str__(key)  # the key as plain text
        copied[key] = item
    return copied


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _check_strings(value: Any, path: str) -> None:
    items: list[tuple[str, Any]]
    if isinstance(value, dict):
        for key in value:
            try:
                key.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput(path, "a key is not valid unicode (lone surrogate)") from None
        items = [(key_path(path, k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(path, "is not valid unicode (lone surrogate)") from None
        return
    else:
        return
    for child_path, child in items:
        _check_strings(child, child_path)


def _params(value: dict[str, Any]) -> bytes:
    """Only JSON, valid unicode, at most 16 levels deep and 64 KiB as compact JSON; the
    params' canonical encoding (which a submit needs for their digest)."""
    check_json(value, "params")  # only JSON types, no NaN: InvalidInput naming the part
    canonical = encode_checked(value)
    if b"\\u" not in canonical:
        # Only printable ASCII and the short escapes (\n, \", ...), which the compact JSON
        # writes alike: as long as it, in another order of keys.
        size = len(canonical)
        brackets = canonical.count(b"{") + canonical.count(b"[")
    else:
        text = _compact(value)
        try:
            size = len(text.encode())
        except UnicodeEncodeError:
            _check_strings(value, "params")  # names the lone surrogate
            raise
        brackets = text.count("{") + text.count("[")
    # As deep as it has brackets at most: the walk only for params that might be too deep.
    if brackets > MAX_PARAMS_DEPTH and _depth(value) > MAX_PARAMS_DEPTH:
        raise ValueError(f"nested deeper than {MAX_PARAMS_DEPTH} levels")
    if size > MAX_PARAMS_BYTES:
        raise ValueError(f"larger than 64 KiB as JSON ({size} bytes)")
    return canonical


def split_target(target: str) -> tuple[str, str]:
    """``<provider>/<offering>``: the provider has no '/', the offering may."""
    provider, _, offering = target.partition("/")
    return provider, offering


@dataclass(frozen=True, slots=True)
class IntentRequest:
    """A new intent as the caller describes it, as ``parse_request`` accepted it."""

    request_id: str
    actor: str
    target: str
    params: dict[str, Any]
    _canonical: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def canonical_params(self) -> bytes:
        """The params' canonical encoding (the bytes their digest is computed over)."""
        if self._canonical is not None:  # made by parse_request while it checked them
            return self._canonical
        return encode_checked(self.params)

    @property
    def provider(self) -> str:
        """The target's provider: what comes before its first '/'."""
        return split_target(self.target)[0]

    @property
    def offering(self) -> str:
        """The target's offering: what comes after its first '/'."""
        return split_target(self.target)[1]


def parse_request(
    request_id: object, actor: object, target: object, params: object
) -> IntentRequest:
    """Validate raw input; raise InvalidInput naming the first field that is wrong."""
    failed: InvalidInput | None = None
    checked_id = checked_actor = checked_target = ""
    checked_params: dict[str, Any] = {}
    canonical = b""
    try:
        checked_id = _request_id(request_id)
    except ValueError as exc:
        failed = InvalidInput("request_id", str(exc))
    try:
        checked_actor = _plain_text(_string(actor), MAX_ACTOR)
    except ValueError as exc:
        failed = failed or InvalidInput("actor", str(exc))
    try:
        checked_target = _target(target)
    except ValueError as exc:
        failed = failed or InvalidInput("target", str(exc))
    try:  # an InvalidInput from inside params goes up at once
        checked_params = _params_dict(params)
        canonical = _params(checked_params)
    except _KeyRefused as exc:
        failed = failed or InvalidInput(exc.field, str(exc))
    except ValueError as exc:
        failed = failed or InvalidInput("params", str(exc))
    if failed is not None:
        raise failed
    return IntentRequest(checked_id, checked_actor, checked_target, checked_params, canonical)
