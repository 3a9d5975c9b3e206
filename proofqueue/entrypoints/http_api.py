"""The HTTP API (``proofqueue serve``): the CLI's use cases over JSON, behind access tokens.

    route                               who (role)                   answers
    POST /intents                       agent, operator              receipt, 201 (200 if known)
    GET  /intents/{id}/receipt          agent (own), operator, auditor   receipt
    GET  /intents?status=&actor=&target=&older_than=&limit=&offset=
                                        operator, auditor            the operator list
    GET  /intents/{id}                  operator, auditor            the trail (``show --json``)
    POST /intents/{id}/retry            operator                     receipt
    POST /intents/{id}/cancel           operator                     receipt ({"reason"})
    POST /vendor/hold                   operator                     health ({"reason"})
    POST /vendor/release                operator                     health
    GET  /health                        every role                   the breaker health view
    GET  /workers                       operator, auditor            the workers' heartbeats
    GET  /verify[?request_id=...]       auditor                      proof chains
    GET  /replay[?check=true][&as_of=T] auditor                      replay report
    GET  /openapi.json                  anyone                       this description

Every request but ``/openapi.json`` carries ``Authorization: Bearer <token>`` (``proofqueue
token create``); 401 without a valid one, 403 when the role may not. The actor of a
submit and the operator recorded for a retry or cancel is the token's name, never a value
from the body. Requests whose Host is not served here or whose Origin is not the server's
own are refused with 403 before any handler runs (``http_access``); cookies are never read
and no CORS header is ever sent. POST bodies must be ``application/json`` (415), at most
256 KiB (413). Errors are always ``{"error": "..."}``: 400 names the bad input, 404 an
unknown id or route, 405 a wrong method, 409 a refusal, 500 ``internal error`` (logged,
never a traceback in the answer).

Nothing blocks the event loop: short store calls run through ``anyio.to_thread``; calls
that may wait on the vendor run in a bounded pool of their own (``Settings.concurrency``
threads) that a request never waits for. A submit's ``wait`` (0-60 s) is an upper bound,
spent polling the receipt with ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import functools
import getpass
import json
import logging
import math
import re
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proofqueue.api import ProofQueue
from proofqueue.domain.access import ALLOWED, Action, Principal, TokenNotFound
from proofqueue.domain.errors import (
    ConfigurationError,
    IntentNotFound,
    InvalidInput,
    ProofQueueError,
    Refused,
    TrailDamaged,
)
from proofqueue.domain.receipt import Receipt
from proofqueue.entrypoints.http_access import allowed_hosts, host_problem, origin_problem

log = logging.getLogger("proofqueue.http")

T = TypeVar("T")

MAX_BODY = 256 * 1024
MAX_WAIT_S = 60.0
MAX_LIMIT = 10_000
MAX_OFFSET = 1_000_000_000
MAX_OLDER_THAN_S = 10_000_000_000.0
MAX_VERIFY_IDS = 1000
# Attempts waiting for a thread of the vendor pool; beyond this a submit leaves its intent to
# the worker rather than queueing more work in memory.
MAX_PENDING_ATTEMPTS = 1000

_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,255}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INT = re.compile(r"[0-9]{1,12}")
_STATUS = (
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


@dataclass(frozen=True)
class Caller:
    """Who is asking: a token's name and what its role allows, or the local user in
    ``--insecure-local`` mode (everything allowed; the actor comes from the body)."""

    name: str
    role: str
    allowed: frozenset[Action]
    sees_all: bool
    local: bool = False

    @classmethod
    def of(cls, principal: Principal) -> Caller:
        return cls(
            principal.name,
            principal.role.value,
            ALLOWED[principal.role],
            principal.may(Action.READ_ANY_INTENT),
        )

    def sees(self, actor: str) -> bool:
        return self.sees_all or actor == self.name


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _json(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(json.loads(json.dumps(value, default=str)), status_code=status)


def _receipt(receipt: Receipt, status: int = 200) -> JSONResponse:
    return JSONResponse(json.loads(receipt.model_dump_json()), status_code=status)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


# -- the guard in front of every route ---------------------------------------------------------


class Guard:
    """Host and Origin rules before anything else; a JSON 500 for anything unexpected.

    Also marks every answer ``Cache-Control: no-store`` and ``X-Content-Type-Options:
    nosniff``. Never adds a CORS header."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host")
        problem = host_problem(host, self.hosts) or origin_problem(
            headers.get("origin"),
            headers.get("sec-fetch-site"),
            str(scope.get("scheme", "http")),
            host or "",
        )
        if problem:
            await _error(403, problem)(scope, receive, send)
            return
        started = False

        async def marked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"cache-control", b"no-store"),
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        try:
            await self.app(scope, receive, marked)
        except Exception:
            log.exception("internal error answering %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _error(500, "internal error")(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise exc
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path[:200]}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path[:200]}"
    else:
        message = str(exc.detail)
    return _error(exc.status_code, message, dict(exc.headers or {}))


# -- reading requests -------------------------------------------------------------------------


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
        text = str(exc)
        problem = text if "JSON number" in text else "holds a number too large"
        raise InvalidInput("body", problem) from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    return body


def _only(body: dict[str, Any], fields: set[str], what: str) -> None:
    unknown = sorted(set(body) - fields)
    if unknown:
        raise InvalidInput(unknown[0][:100], f"is not a field of a {what}")


def _query(
    request: Request, known: frozenset[str] | set[str], repeatable: frozenset[str] = frozenset()
) -> None:
    for name in request.query_params:
        if name not in known:
            shown = ", ".join(sorted(known)) or "none"
            raise InvalidInput(name[:100], f"is not a query parameter here; known: {shown}")
        if name not in repeatable and len(request.query_params.getlist(name)) > 1:
            raise InvalidInput(name, "is given more than once")


def _text(request: Request, name: str, limit: int = 512) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if len(raw) > limit or _CONTROL.search(raw):
        raise InvalidInput(name, f"must be at most {limit} characters, no control characters")
    return raw


def _whole(request: Request, name: str, low: int, high: int, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _INT.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidInput(name, f"must be a whole number from {low} to {high} (got {raw[:40]!r})")
    return int(raw)


def _seconds(request: Request, name: str) -> float | None:
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


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false", "1", "0"):
        raise InvalidInput(name, "must be true or false")
    return raw.lower() in ("true", "1")


def _request_id(request: Request) -> str:
    rid = str(request.path_params["request_id"])
    if not _REQUEST_ID.fullmatch(rid):
        raise InvalidInput("request_id", "must be 1-255 printable ASCII characters, no spaces")
    return rid


def _wait(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("wait", "must be a number of seconds")
    if not 0 <= value <= MAX_WAIT_S:
        raise InvalidInput("wait", f"must be between 0 and {MAX_WAIT_S:g} seconds")
    return float(value)


def _as_of(request: Request) -> datetime | None:
    raw = _text(request, "as_of", 64)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("as_of", f"{raw!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the application --------------------------------------------------------------------------


class Api:
    """The routes over one ProofQueue, with the thread pools they use."""

    def __init__(self, pq: ProofQueue, *, insecure_local: bool) -> None:
        self.pq = pq
        self.insecure_local = insecure_local
        self.local_name = _login_name()
        concurrency = pq.settings.concurrency
        self.vendor_pool = ThreadPoolExecutor(concurrency, thread_name_prefix="pq-http-attempt")
        self.slow_pool = ThreadPoolExecutor(2, thread_name_prefix="pq-http-slow")
        self.pending = 0
        self.lock = threading.Lock()

    def close(self) -> None:
        """Drop attempts not started yet; wait for those in flight (bounded by the vendor
        client's timeouts). The worker picks up whatever was left."""
        self.vendor_pool.shutdown(wait=True, cancel_futures=True)
        self.slow_pool.shutdown(wait=True, cancel_futures=True)

    # -- thread hand-offs

    async def short(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A short, store-only call, in anyio's worker threads."""
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    async def slow(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A long store-only call (verify all, replay), two at a time at most."""
        future = self.slow_pool.submit(functools.partial(fn, *args, **kwargs))
        return await asyncio.wrap_future(future)

    def start_attempt(self, request_id: str, follow: float) -> None:
        """Attempt (and follow) an intent in the vendor pool; the request does not wait."""
        if self.pq.parts.manager is None:
            return
        with self.lock:
            if self.pending >= MAX_PENDING_ATTEMPTS:
                return  # the worker will attempt it
            self.pending += 1

        def run() -> None:
            try:
                self.pq.attempt(request_id, follow=follow)
            except Exception:
                log.exception("attempt of %r failed", request_id)
            finally:
                with self.lock:
                    self.pending -= 1

        try:
            self.vendor_pool.submit(run)
        except RuntimeError:  # shutting down
            with self.lock:
                self.pending -= 1

    # -- access

    async def caller(self, request: Request) -> Caller:
        header = request.headers.get("authorization")
        if header is None:
            if self.insecure_local:
                return Caller(self.local_name, "local", frozenset(Action), True, local=True)
            raise Problem(
                401,
                "missing access token: send Authorization: Bearer <token>"
                " (proofqueue token create)",
                {"WWW-Authenticate": "Bearer"},
            )
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        principal = None
        if scheme.lower() == "bearer" and token:
            principal = await self.short(self.pq.authenticate, token)
        if principal is None:
            raise Problem(
                401,
                "invalid or revoked access token",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return Caller.of(principal)

    def route(
        self, action: Action | None, handler: Callable[[Request, Caller], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A handler behind the token check and ``action``'s role check, with errors mapped."""

        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                caller = await self.caller(request)
                if action is not None and action not in caller.allowed:
                    raise Problem(403, f"the {caller.role} role may not {action.value}")
                return await handler(request, caller)
            except Problem as exc:
                return _error(exc.status, exc.message, exc.headers)
            except ProofQueueError as exc:
                status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
                return _error(status, str(exc))

        return endpoint

    # -- handlers

    async def submit(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request)
        _only(body, {"request_id", "actor", "target", "params", "wait"}, "submit")
        wait = _wait(body.get("wait", 0.0))
        actor = body.get("actor")
        if not caller.local:
            if actor is not None and actor != caller.name:
                raise Problem(
                    403, f"actor: a token submits as itself ({caller.name!r}); leave actor out"
                )
            actor = caller.name
        receipt, created = await self.short(
            self.pq.record,
            body.get("request_id"),
            actor=actor,
            target=body.get("target"),
            params=body.get("params"),
        )
        if not receipt.is_final:
            self.start_attempt(receipt.request_id, wait)
            receipt = await self.await_final(receipt, wait)
        return _receipt(receipt, 201 if created else 200)

    async def await_final(self, receipt: Receipt, wait: float) -> Receipt:
        """Poll the receipt, sleeping in the event loop, until final or ``wait`` is spent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        pause = 0.05
        while not receipt.is_final:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 1.5, 0.5)
            receipt = await self.short(self.pq.receipt, receipt.request_id)
        return receipt

    async def receipt(self, request: Request, caller: Caller) -> Response:
        _query(request, set())
        rid = _request_id(request)
        found = await self.short(self.pq.receipt, rid)
        if not caller.sees(found.actor):
            raise IntentNotFound(rid)  # the same answer as for an unknown id
        return _receipt(found)

    async def show(self, request: Request, caller: Caller) -> Response:
        _query(request, set())
        return _json(await self.short(self.pq.show, _request_id(request)))

    async def intents(self, request: Request, caller: Caller) -> Response:
        _query(request, {"status", "actor", "target", "older_than", "limit", "offset"})
        status = _text(request, "status", 200) or ""
        rows = await self.short(
            self.pq.list,
            status=[s for s in status.split(",") if s.strip()],
            actor=_text(request, "actor"),
            target=_text(request, "target"),
            older_than=_seconds(request, "older_than"),
            limit=_whole(request, "limit", 1, MAX_LIMIT, 100),
            offset=_whole(request, "offset", 0, MAX_OFFSET, 0),
        )
        return _json(rows)

    async def retry(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request, empty_ok=True)
        # "operator" is accepted for older clients and ignored: the token names the operator.
        _only(body, {"operator"}, "retry")
        found = await self.short(self.pq.retry, _request_id(request), operator=caller.name)
        return _receipt(found)

    async def cancel(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request)
        _only(body, {"reason", "operator"}, "cancel")
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise InvalidInput("reason", "must be a string saying why")
        found = await self.short(
            self.pq.cancel, _request_id(request), reason=reason, operator=caller.name
        )
        return _receipt(found)

    async def hold(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request)
        _only(body, {"reason", "operator"}, "hold")
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise InvalidInput("reason", "must be a string saying why")
        await self.short(self.pq.hold_vendor, reason=reason, operator=caller.name)
        return _json(await self.short(self.pq.health))

    async def release(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request, empty_ok=True)
        _only(body, {"operator"}, "release")
        await self.short(self.pq.release_vendor, operator=caller.name)
        return _json(await self.short(self.pq.health))

    async def workers(self, request: Request, caller: Caller) -> Response:
        _query(request, set())
        return _json(await self.short(self.pq.workers))

    async def health(self, request: Request, caller: Caller) -> Response:
        _query(request, set())
        return _json(await self.short(self.pq.health))

    async def verify(self, request: Request, caller: Caller) -> Response:
        _query(request, {"request_id"}, repeatable=frozenset({"request_id"}))
        ids = request.query_params.getlist("request_id")
        if len(ids) > MAX_VERIFY_IDS:
            raise InvalidInput("request_id", f"at most {MAX_VERIFY_IDS} at once")
        for rid in ids:
            if not _REQUEST_ID.fullmatch(rid):
                raise InvalidInput("request_id", "must be 1-255 printable ASCII characters")
        report = await self.slow(self.pq.verify, ids)
        return _json(
            {
                "intents": report.intents,
                "events": report.events,
                "ok": report.ok,
                "problems": [p.__dict__ for p in report.problems],
            }
        )

    async def replay(self, request: Request, caller: Caller) -> Response:
        _query(request, {"check", "as_of"})
        check, as_of = _flag(request, "check"), _as_of(request)
        report = await self.slow(self.pq.replay, check=check, as_of=as_of)
        if report.as_of is not None:
            return _json(
                {
                    "as_of": report.as_of.isoformat(),
                    "intents": report.intents,
                    "health": report.health,
                }
            )
        return _json(
            {
                "events": report.events,
                "seconds": round(report.seconds, 3),
                "differences": report.differences,
                "ok": not report.differences,
            }
        )

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def checkpoint(self, request: Request) -> Response:
        """The latest signed checkpoint: public, like any transparency log's."""
        _query(request, set())
        text = await self.short(self.pq.checkpoint)
        if text is None:
            return JSONResponse({"error": "no checkpoint signed yet"}, status_code=404)
        return Response(text, media_type="text/plain; charset=utf-8")


def create_app(
    pq: ProofQueue,
    *,
    host: str = "127.0.0.1",
    allowed_host: tuple[str, ...] = (),
    insecure_local: bool = False,
) -> Starlette:
    """The ASGI application over one ProofQueue, served on ``host``.

    ``allowed_host`` adds names a request's Host may carry (loopback names and ``host`` are
    always allowed). ``insecure_local`` lets requests without a token act as the local
    user, with every role; ``serve`` allows it on loopback only. Call ``close_app`` when the
    server has stopped."""
    api = Api(pq, insecure_local=insecure_local)
    r = api.route
    app = Starlette(
        routes=[
            Route("/openapi.json", api.openapi, methods=["GET"]),
            Route("/tlog/checkpoint", api.checkpoint, methods=["GET"]),
            Route("/intents", r(Action.SUBMIT, api.submit), methods=["POST"]),
            Route("/intents", r(Action.LIST, api.intents), methods=["GET"]),
            Route(
                "/intents/{request_id:path}/receipt",
                r(Action.READ_OWN_RECEIPT, api.receipt),
                methods=["GET"],
            ),
            Route("/intents/{request_id:path}/retry", r(Action.RETRY, api.retry), methods=["POST"]),
            Route(
                "/intents/{request_id:path}/cancel", r(Action.CANCEL, api.cancel), methods=["POST"]
            ),
            Route(
                "/intents/{request_id:path}", r(Action.READ_ANY_INTENT, api.show), methods=["GET"]
            ),
            Route("/vendor/hold", r(Action.HOLD, api.hold), methods=["POST"]),
            Route("/vendor/release", r(Action.HOLD, api.release), methods=["POST"]),
            Route("/health", r(Action.HEALTH, api.health), methods=["GET"]),
            Route("/workers", r(Action.LIST, api.workers), methods=["GET"]),
            Route("/verify", r(Action.VERIFY, api.verify), methods=["GET"]),
            Route("/replay", r(Action.REPLAY, api.replay), methods=["GET"]),
        ],
        middleware=[Middleware(Guard, hosts=allowed_hosts(host, allowed_host))],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.api = api
    return app


def close_app(app: Starlette) -> None:
    """Stop the app's thread pools (after the server has stopped)."""
    api: Api = app.state.api
    api.close()


# -- the description --------------------------------------------------------------------------

_ERROR = {
    "description": "an error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            }
        }
    },
}
_RECEIPT = {"$ref": "#/components/schemas/Receipt"}
_ID = {
    "name": "request_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
}


def _op(summary: str, roles: str, ok: dict[str, Any], **extra: Any) -> dict[str, Any]:
    responses: dict[str, Any] = {**ok}
    for code in ("400", "401", "403", "404"):
        responses[code] = _ERROR
    return {
        "summary": summary,
        "description": f"Roles: {roles}.",
        "security": [{"bearer": []}],
        "responses": responses,
        **extra,
    }


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _q(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


_JSON_BODY = {"415": _ERROR, "413": _ERROR, "409": _ERROR}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "proofqueue", "version": "1"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Receipt": {
                "type": "object",
                "properties": {
                    name: {"type": ["string", "null"]}
                    for name in (
                        "request_id",
                        "actor",
                        "target",
                        "status",
                        "job_id",
                        "deliverable_id",
                        "queued_at",
                        "settled_at",
                        "proof",
                    )
                }
                | {"attempts": {"type": "integer"}},
            },
        },
    },
    "paths": {
        "/intents": {
            "post": _op(
                "Record an intent (idempotent per request_id) and buy it; the actor is the"
                " token's name",
                "agent, operator",
                {
                    "201": _answer("recorded now", _RECEIPT),
                    "200": _answer("the same request was already recorded", _RECEIPT),
                    **_JSON_BODY,
                },
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["request_id", "target"],
                                "additionalProperties": False,
                                "properties": {
                                    "request_id": {"type": "string"},
                                    "target": {"type": "string"},
                                    "params": {"type": "object"},
                                    "actor": {
                                        "type": "string",
                                        "description": "optional; must equal the token's name",
                                    },
                                    "wait": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_S},
                                },
                            }
                        }
                    },
                },
            ),
            "get": _op(
                "The operator list, queued and retrying first",
                "operator, auditor",
                {"200": _answer("list rows", {"type": "array", "items": {"type": "object"}})},
                parameters=[
                    _q("status", {"type": "string", "description": "comma-separated"}),
                    _q("actor", {"type": "string"}),
                    _q("target", {"type": "string"}),
                    _q("older_than", {"type": "number", "minimum": 0}),
                    _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
                    _q("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}),
                ],
            ),
        },
        "/intents/{request_id}": {
            "get": _op(
                "The whole trail, sanitized",
                "operator, auditor",
                {"200": _answer("the trail", {"type": "object"})},
                parameters=[_ID],
            )
        },
        "/intents/{request_id}/receipt": {
            "get": _op(
                "The public-safe receipt (an agent sees its own intents only)",
                "agent (own), operator, auditor",
                {"200": _answer("the receipt", _RECEIPT)},
                parameters=[_ID],
            )
        },
        "/intents/{request_id}/retry": {
            "post": _op(
                "Attempt now with the budget re-armed; recorded with the token's name",
                "operator",
                {"200": _answer("the receipt", _RECEIPT), **_JSON_BODY},
                parameters=[_ID],
            )
        },
        "/intents/{request_id}/cancel": {
            "post": _op(
                "Fail an intent the vendor holds no job for; recorded with the token's name",
                "operator",
                {"200": _answer("the receipt", _RECEIPT), **_JSON_BODY},
                parameters=[_ID],
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["reason"],
                                "properties": {"reason": {"type": "string", "maxLength": 500}},
                            }
                        }
                    },
                },
            )
        },
        "/vendor/hold": {
            "post": _op(
                "Hold every call to the vendor until released; recorded with the token's name",
                "operator",
                {"200": _answer("health", {"type": "object"}), **_JSON_BODY},
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["reason"],
                                "properties": {"reason": {"type": "string", "maxLength": 500}},
                            }
                        }
                    },
                },
            )
        },
        "/vendor/release": {
            "post": _op(
                "End the hold on the vendor; recorded with the token's name",
                "operator",
                {"200": _answer("health", {"type": "object"}), **_JSON_BODY},
            )
        },
        "/workers": {
            "get": _op(
                "The workers on this store and whether each is alive",
                "operator, auditor",
                {"200": _answer("worker rows", {"type": "array", "items": {"type": "object"}})},
            )
        },
        "/health": {
            "get": _op(
                "The breaker health view",
                "agent, operator, auditor",
                {"200": _answer("health", {"type": "object"})},
            )
        },
        "/verify": {
            "get": _op(
                "Recompute proof chains (of the given ids, or of the whole log)",
                "auditor",
                {"200": _answer("verify report", {"type": "object"})},
                parameters=[_q("request_id", {"type": "string"})],
            )
        },
        "/replay": {
            "get": _op(
                "Rebuild every view from the log into a fresh store",
                "auditor",
                {"200": _answer("replay report", {"type": "object"})},
                parameters=[
                    _q("check", {"type": "boolean"}),
                    _q("as_of", {"type": "string", "format": "date-time"}),
                ],
            )
        },
        "/tlog/checkpoint": {
            "get": {
                "summary": "The latest signed checkpoint (c2sp.org/tlog-checkpoint, text/plain)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "a signed note",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "404": _answer("none signed yet", {"type": "object"}),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This description",
                "security": [],
                "responses": {"200": _answer("OpenAPI 3.1", {"type": "object"})},
            }
        },
    },
}
