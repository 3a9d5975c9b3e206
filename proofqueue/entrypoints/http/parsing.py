"""Reading requests: the JSON body and the query and path parameters, with their limits.

A body must be ``application/json`` (else 415), at most ``MAX_BODY`` bytes (else 413) and
strict JSON (no NaN or Infinity, a JSON object). Query parameters must be known to the
route and given once unless repeatable; each reader here checks one parameter's form and
range and raises ``InvalidInput`` (400) naming it.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from proofqueue.domain.errors import InvalidInput
from proofqueue.entrypoints.http.answers import Problem

MAX_BODY = 256 * 1024
MAX_WAIT_S = 60.0
MAX_LIMIT = 10_000
MAX_OFFSET = 1_000_000_000
MAX_OLDER_THAN_S = 10_000_000_000.0
MAX_VERIFY_IDS = 1000

REQUEST_ID = re.compile(r"[\x21-\x7e]{1,255}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INT = re.compile(r"[0-9]{1,12}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def read_json(request: Request, *, empty_ok: bool = False) -> dict[str, Any]:
    """The body as a JSON object: ``application/json``, at most MAX_BODY bytes, strict JSON
    (no NaN or Infinity), not nested beyond what the parser can take."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise Problem(415, "the body must be JSON, sent as Content-Type: application/json")
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise InvalidInput("Content-Length", "must be a whole number of bytes")
    if declared is not None and int(declared) > MAX_BODY:
        raise Problem(413, f"the body must be at most {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Problem(413, f"the body must be at most {MAX_BODY} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if empty_ok and not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InvalidInput("body", "is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput("body", f"is not valid JSON: {exc.msg} at char {exc.pos}") from None
    except RecursionError:
        raise InvalidInput("body", "is nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity, or an integer beyond Python's digit limit
        said = str(exc)
        problem = said if "JSON number" in said else "holds a number too large"
        raise InvalidInput("body", problem) from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    return body


def only(body: dict[str, Any], fields: set[str], what: str) -> None:
    """Refuse a body field not in ``fields`` (``what`` names the body in the message)."""
    unknown = sorted(set(body) - fields)
    if unknown:
        raise InvalidInput(unknown[0][:100], f"is not a field of a {what}")


def query(
    request: Request, known: frozenset[str] | set[str], repeatable: frozenset[str] = frozenset()
) -> None:
    """Refuse a query parameter not ``known``, or given twice unless ``repeatable``."""
    for name in request.query_params:
        if name not in known:
            shown = ", ".join(sorted(known)) or "none"
            raise InvalidInput(name[:100], f"is not a query parameter here; known: {shown}")
        if name not in repeatable and len(request.query_params.getlist(name)) > 1:
            raise InvalidInput(name, "is given more than once")


def text(request: Request, name: str, limit: int = 512) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if len(raw) > limit or _CONTROL.search(raw):
        raise InvalidInput(name, f"must be at most {limit} characters, no control characters")
    return raw


def whole(request: Request, name: str, low: int, high: int, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _INT.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidInput(name, f"must be a whole number from {low} to {high} (got {raw[:40]!r})")
    return int(raw)


def seconds(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = float(raw) if len(raw) <= 40 else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAX_OLDER_THAN_S:
        raise InvalidInput(
            name, f"must be a number of seconds from 0 to {MAX_OLDER_THAN_S:g} (got {raw[:40]!r})"
        )
    return value


def flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false", "1", "0"):
        raise InvalidInput(name, "must be true or false")
    return raw.lower() in ("true", "1")


def request_id(request: Request) -> str:
    """The ``{request_id}`` of the path."""
    rid = str(request.path_params["request_id"])
    if not REQUEST_ID.fullmatch(rid):
        raise InvalidInput("request_id", "must be 1-255 printable ASCII characters, no spaces")
    return rid


def wait(value: Any) -> float:
    """A submit's ``wait`` field: seconds, 0 to MAX_WAIT_S."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("wait", "must be a number of seconds")
    if not 0 <= value <= MAX_WAIT_S:
        raise InvalidInput("wait", f"must be between 0 and {MAX_WAIT_S:g} seconds")
    return float(value)


def as_of(request: Request) -> datetime | None:
    raw = text(request, "as_of", 64)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("as_of", f"{raw!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
