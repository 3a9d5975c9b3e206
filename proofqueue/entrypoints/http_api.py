"""The HTTP operator API (``proofqueue serve``): the CLI's use cases over JSON.

    POST /intents                      submit: {"request_id", "actor", "target", "params", "wait"}
    GET  /intents?status=&actor=&target=&older_than=&limit=&offset=     the operator list
    GET  /intents/{request_id}         the trail (as ``show --json``)
    GET  /intents/{request_id}/receipt the receipt
    POST /intents/{request_id}/retry   {"operator"}
    POST /intents/{request_id}/cancel  {"reason", "operator"}
    GET  /health                       the breaker health view
    GET  /verify?request_id=...        proof chains of those intents (all without one);
                                       ``"ok": false`` and the problems when one is broken

Answers are the JSON shapes of the CLI's ``--json``. Errors are ``{"error": "..."}`` with
400 (bad input), 409 (refused: idempotency conflict, illegal action), 404 (unknown
request_id), 500 (a trail that cannot be read back). Handlers are plain functions, which
Starlette runs in a thread pool, so the event loop never blocks on the store.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from proofqueue.api import ProofQueue
from proofqueue.domain.errors import (
    IntentNotFound,
    InvalidInput,
    ProofQueueError,
    Refused,
    TrailDamaged,
)

_STATUS = ((IntentNotFound, 404), (Refused, 409), (InvalidInput, 400), (TrailDamaged, 500))


def _error(exc: ProofQueueError) -> JSONResponse:
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    return JSONResponse({"error": str(exc)}, status_code=status)


def _json(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(json.loads(json.dumps(value, default=str)), status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise InvalidInput("body", "must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    return body


def _number(request: Request, name: str, kind: type[int] | type[float]) -> Any:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(name, f"{raw!r} is not a number") from None


def create_app(pq: ProofQueue) -> Starlette:
    """The ASGI application over one ProofQueue."""

    async def submit(request: Request) -> JSONResponse:
        try:
            body = await _body(request)
            unknown = set(body) - {"request_id", "actor", "target", "params", "wait"}
            if unknown:
                raise InvalidInput(sorted(unknown)[0], "is not a field of a submit")
            receipt = await run_in_threadpool(
                lambda: pq.submit(
                    body.get("request_id"),
                    actor=body.get("actor"),
                    target=body.get("target"),
                    params=body.get("params"),
                    wait=body.get("wait", 0.0),
                )
            )
        except ProofQueueError as exc:
            return _error(exc)
        return JSONResponse(json.loads(receipt.model_dump_json()))

    def intents(request: Request) -> JSONResponse:
        try:
            statuses = [s for s in request.query_params.get("status", "").split(",") if s]
            rows = pq.list(
                status=statuses,
                actor=request.query_params.get("actor"),
                target=request.query_params.get("target"),
                older_than=_number(request, "older_than", float),
                limit=_number(request, "limit", int) or 100,
                offset=_number(request, "offset", int) or 0,
            )
        except ProofQueueError as exc:
            return _error(exc)
        return _json(rows)

    def show(request: Request) -> JSONResponse:
        try:
            return _json(pq.show(request.path_params["request_id"]))
        except ProofQueueError as exc:
            return _error(exc)

    def receipt(request: Request) -> JSONResponse:
        try:
            found = pq.receipt(request.path_params["request_id"])
        except ProofQueueError as exc:
            return _error(exc)
        return JSONResponse(json.loads(found.model_dump_json()))

    async def retry(request: Request) -> JSONResponse:
        try:
            body = await _body(request)
            rid = request.path_params["request_id"]
            found = await run_in_threadpool(lambda: pq.retry(rid, operator=body.get("operator")))
        except ProofQueueError as exc:
            return _error(exc)
        return JSONResponse(json.loads(found.model_dump_json()))

    async def cancel(request: Request) -> JSONResponse:
        try:
            body = await _body(request)
            rid = request.path_params["request_id"]
            found = await run_in_threadpool(
                lambda: pq.cancel(rid, reason=body.get("reason", ""), operator=body.get("operator"))
            )
        except ProofQueueError as exc:
            return _error(exc)
        return JSONResponse(json.loads(found.model_dump_json()))

    def health(request: Request) -> JSONResponse:
        return _json(pq.health())

    def verify(request: Request) -> JSONResponse:
        try:
            report = pq.verify(request.query_params.getlist("request_id"))
        except ProofQueueError as exc:
            return _error(exc)
        problems = [p.__dict__ for p in report.problems]
        body = {
            "intents": report.intents,
            "events": report.events,
            "ok": report.ok,
            "problems": problems,
        }
        return _json(body)

    return Starlette(
        routes=[
            Route("/intents", submit, methods=["POST"]),
            Route("/intents", intents, methods=["GET"]),
            Route("/intents/{request_id:path}/receipt", receipt, methods=["GET"]),
            Route("/intents/{request_id:path}/retry", retry, methods=["POST"]),
            Route("/intents/{request_id:path}/cancel", cancel, methods=["POST"]),
            Route("/intents/{request_id:path}", show, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/verify", verify, methods=["GET"]),
        ]
    )
