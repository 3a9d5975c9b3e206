"""``/mcp`` in the HTTP app: ``McpMount``, the route's ASGI app and the lifespan it needs.

Every request to ``/mcp`` first passes the HTTP API's token check (``Gate.caller``: 401
JSON without a valid ``Authorization: Bearer`` token; cookies are never read); the caller
is kept in the request's ASGI scope (``CALLER_KEY``) for the tools.

The MCP server itself (``http.McpEndpoint``) is built at the first authenticated request,
its SDK imported in a worker thread (over a second of CPU, which a ``serve`` nobody asks
for MCP never spends), and its session manager runs in a task group of the app's lifespan.
Without ``proofqueue[mcp]``, ``/mcp`` answers 501 naming the extra; outside the app's
lifespan (an app driven without one) it answers 503. This module imports no part of the SDK.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup, TaskStatus
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

    async def serve(self, *, task_status: TaskStatus[None]) -> None: ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


class McpMount:
    """The ASGI app of the ``/mcp`` route, and the lifespan the MCP server runs in."""

    def __init__(self, pq: ProofQueue, pools: Pools, gate: Gate) -> None:
        self.pq = pq
        self.pools = pools
        self.gate = gate
        self.installed = importlib.util.find_spec("mcp") is not None
        self.endpoint: Endpoint | None = None
        self.group: TaskGroup | None = None
        self.starting: anyio.Lock | None = None

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """A task group for the MCP server's session manager while the app runs."""
        async with anyio.create_task_group() as group:
            self.group, self.starting = group, anyio.Lock()
            try:
                yield
            finally:
                self.group = self.endpoint = None
                group.cancel_scope.cancel()

    async def started(self) -> Endpoint | None:
        """The MCP server, built and started at the first call; None outside the lifespan."""
        if self.endpoint is not None or self.group is None or self.starting is None:
            return self.endpoint
        async with self.starting:
            if self.endpoint is None:
                endpoint = await anyio.to_thread.run_sync(self._build)
                await self.group.start(endpoint.serve)
                self.endpoint = endpoint
        return self.endpoint

    def _build(self) -> Endpoint:
        from proofqueue.entrypoints.mcp.http import McpEndpoint

        return McpEndpoint(self.pq, self.pools)

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
            return
        endpoint = await self.started()
        if endpoint is None:
            await error(503, "MCP is not running (the server is starting or stopping)")(
                scope, receive, send
            )
            return
        await endpoint(scope, receive, send)
