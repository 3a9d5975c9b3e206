"""The oracle for ``parse_request``: its implementation before it stopped using pydantic's
validation (a copy, kept as it was; ``test_request_differential`` compares the two)."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from proofqueue.domain.canonical import check_json, encode_checked, key_path
from proofqueue.domain.errors import InvalidInput

MAX_PARAMS_BYTES = 64 * 1024
MAX_PARAMS_DEPTH = 16
MAX_ACTOR = 200
MAX_TARGET = 512

_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,255}")
_SPACE = re.compile(r"\s")
# C0/C1 controls, line and paragraph separators, and the bidirectional controls that make
# text show in another order than it is stored (embeddings, overrides, isolates, marks).
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)


def _plain_text(value: str, field: str, limit: int) -> str:
    if not value or not value.strip():
        raise ValueError("must not be empty")
    if value != value.strip():
        raise ValueError("must not start or end with white space")
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters (got {len(value)})")
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid unicode (lone surrogate)") from None
    return value


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


def split_target(target: str) -> tuple[str, str]:
    """``<provider>/<offering>``: the provider has no '/', the offering may."""
    provider, _, offering = target.partition("/")
    return provider, offering


class IntentRequest(BaseModel):
    """A new intent as the caller describes it."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    request_id: str
    actor: str
    target: str
    params: dict[str, Any]

    @field_validator("request_id")
    @classmethod
    def _request_id(cls, value: str) -> str:
        if not _REQUEST_ID.fullmatch(value):
            raise ValueError(
                "must be 1-255 printable ASCII characters without spaces"
                f" (got {len(value)} characters)"
            )
        return value

    @field_validator("actor")
    @classmethod
    def _actor(cls, value: str) -> str:
        return _plain_text(value, "actor", MAX_ACTOR)

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        _plain_text(value, "target", MAX_TARGET)
        provider, sep, offering = value.partition("/")
        if not sep or not provider.strip() or not offering.strip():
            raise ValueError("must be <provider>/<offering>, both non-empty")
        if _SPACE.search(provider):
            raise ValueError("provider must not contain white space")
        return value

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_json(value, "params")  # only JSON types, no NaN
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        try:
            size = len(text.encode())
        except UnicodeEncodeError:
            _check_strings(value, "params")  # names the lone surrogate
            raise
        # As deep as it has brackets at most: the walk only for params that might be too deep.
        brackets = text.count("{") + text.count("[")
        if brackets > MAX_PARAMS_DEPTH and _depth(value) > MAX_PARAMS_DEPTH:
            raise ValueError(f"nested deeper than {MAX_PARAMS_DEPTH} levels")
        if size > MAX_PARAMS_BYTES:
            raise ValueError(f"larger than 64 KiB as JSON ({size} bytes)")
        return value

    @property
    def canonical_params(self) -> bytes:
        return encode_checked(self.params)  # the validator has checked them

    @property
    def provider(self) -> str:
        return split_target(self.target)[0]

    @property
    def offering(self) -> str:
        return split_target(self.target)[1]


def parse_request(request_id: Any, actor: Any, target: Any, params: Any) -> IntentRequest:
    """Validate raw input; raise InvalidInput naming the first field that is wrong."""
    try:
        return IntentRequest(request_id=request_id, actor=actor, target=target, params=params)
    except InvalidInput:
        raise
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "input"
        message = str(first["msg"]).removeprefix("Value error, ")
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, InvalidInput):
            raise InvalidInput(cause.field, cause.problem) from None
        raise InvalidInput(field, message) from None
