"""How the HTTP API answers: JSON bodies and receipts, and every error as ``{"error": ...}``.

Holds ``Problem`` (a refusal carrying its own status), the mapping of the domain's errors
to 4xx/5xx statuses, and the handler for Starlette's own 404 (no route) and 405 (wrong
method). The 500 for anything unexpected is written by ``guard.Guard``.
"""

from __future__ import annotations

import json

from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proofqueue.domain.access import TokenNotFound
from proofqueue.domain.errors import (
    ConfigurationError,
    IntentNotFound,
    InvalidInput,
    ProofQueueError,
    Refused,
    TrailDamaged,
)
from proofqueue.domain.receipt import Receipt

STATUS = (
    (IntentNotFound, 404),
    (TokenNotFound, 404),
    (Refused, 409),
    (ConfigurationError, 409),
    (InvalidInput, 400),
    (TrailDamaged, 500),
)


class Problem(Exception):
    """A refusal with its HTTP status; answered as ``{"error": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def status_of(exc: ProofQueueError) -> int:
    """The HTTP status of one of the domain's errors (400 unless mapped in ``STATUS``)."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def json_answer(value: object, status: int = 200) -> JSONResponse:
    """``value`` as a JSON answer; models as their ``model_dump(mode="json")``."""
    return JSONResponse(json.loads(json.dumps(value, default=_jsonable)), status_code=status)


def _jsonable(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def receipt_answer(receipt: Receipt, status: int = 200) -> JSONResponse:
    return JSONResponse(json.loads(receipt.model_dump_json()), status_code=status)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors (404 no route, 405 wrong method) as JSON."""
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise exc
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path[:200]}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path[:200]}"
    else:
        message = str(exc.detail)
    return error(exc.status_code, message, dict(exc.headers or {}))
