"""``/mcp`` in the HTTP app: ``McpMount``, the route and the lifespan it needs.

Every request to ``/mcp`` first passes the HTTP API's token check (``Gate.caller``: 401
JSON without a valid ``Authorization: Bearer`` token; cookies are never read); the caller
is kept in the request's ASGI scope (``CALLER_KEY``) for the tools. The MCP server itself
(``http.McpEndpoint``) is built when the app's lifespan starts, which also runs its session
manager: so building the app imports no part of the SDK, and without ``proofqueue[mcp]``
``/mcp`` answers 501 naming the extra. Before the lifespan has started it answers 503.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from proofqueue.api import ProofQueue
from proofqueue.domain.errors import ProofQueueError
from proofqueue.entrypoints.http.answers import Problem, error, status_of
from proofqueue.entrypoints.http.auth import Gate
from proofqueue.entrypoints.http.pools import Pools

PATH = "/mcp"
# Where the authenticated caller is kept in each request's ASGI scope.
CALLER_KEY = "proofqueue.caller"


class Endpoint(Protocol):
    """The MCP server's ASGI side (``http.McpEndpoint``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


class McpMount:
    """The ASGI app of the ``/mcp`` route, and the lifespan that runs the MCP server."""

    def __init__(self, pq: ProofQueue, pools: Pools, gate: Gate) -> None:
        self.pq = pq
        self.pools = pools
        self.gate = gate
        self.installed = importlib.util.find_spec("mcp") is not None
        self.endpoint: Endpoint | None = None

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Build the MCP server and run its session manager while the app runs."""
        if not self.installed:
            yield
            return
        from proofqueue.entrypoints.mcp.http import McpEndpoint

        endpoint = McpEndpoint(self.pq, self.pools)
        async with endpoint.running():
            self.endpoint = endpoint
            try:
                yield
            finally:
                self.endpoint = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            scope[CALLER_KEY] = await self.gate.caller(Request(scope))
        except Problem as exc:
            await error(exc.status, exc.message, exc.headers)(scope, receive, send)
            return
        except ProofQueueError as exc:
            await error(status_of(exc), str(exc))(scope, receive, send)
            return
        if not self.installed:
            problem = error(501, "MCP is not installed here: pip install 'proofqueue[mcp]'")
            await problem(scope, receive, send)
        elif self.endpoint is None:
            await error(503, "MCP is not running yet (the server is starting or stopping)")(
                scope, receive, send
            )
        else:
            await self.endpoint(scope, receive, send)
