"""The ASGI middleware in front of every route: ``Guard``.

It applies the Host and Origin rules of ``hosts`` before anything else (403), marks every
answer ``Cache-Control: no-store``, ``X-Content-Type-Options: nosniff`` and the strict
``Content-Security-Policy``, ``X-Frame-Options: DENY`` and ``Referrer-Policy`` of ``CSP``, and turns
anything unexpected into a logged JSON 500 (``internal error``, never a traceback). It
never adds a CORS header.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proofqueue.entrypoints.http.answers import error
from proofqueue.entrypoints.http.hosts import host_problem, origin_problem

log = logging.getLogger("proofqueue.http")

# On every answer (the web console's page is the one that needs them): scripts and styles
# from this server only, nothing inline, never framed, no referrer sent along.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = (
    (b"content-security-policy", CSP.encode("ascii")),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


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
            await error(403, problem)(scope, receive, send)
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
                    *PAGE_HEADERS,
                ]
            await send(message)

        try:
            await self.app(scope, receive, marked)
        except Exception:
            log.exception("internal error answering %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await error(500, "internal error")(scope, receive, send)
