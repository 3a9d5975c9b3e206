"""MCP over streamable HTTP at ``/mcp`` in ``serve``, behind the HTTP API's own tokens.

``McpEndpoint`` is the ASGI app of the route. Each request first passes the API's token
check (``Gate.caller``: 401 JSON without a valid ``Authorization: Bearer`` token, cookies
never read), then goes to the SDK's session manager, with the caller kept in the request's
scope for the tools (``caller_of``). The role checks are the tools' own (a refused role is
a tool error). The Host/Origin guard of the app runs before all of this, and nothing adds
CORS headers.

The session manager is stateless and answers JSON: each POST is one self-contained
exchange (no server-side session to steal or leak, any of several ``serve`` processes can
answer); GET (a server-sent event stream) is answered 405, which the protocol allows. It
needs its lifespan running (``lifespan``): until then ``/mcp`` answers 503.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from proofqueue.api import ProofQueue
from proofqueue.domain.errors import ProofQueueError
from proofqueue.entrypoints.http.answers import Problem, error, status_of
from proofqueue.entrypoints.http.auth import Caller, Gate
from proofqueue.entrypoints.http.parsing import MAX_BODY
from proofqueue.entrypoints.http.pools import Pools
from proofqueue.entrypoints.mcp.server import build_server

# Where the endpoint keeps the authenticated caller in each request's ASGI scope.
CALLER_KEY = "proofqueue.caller"


def caller_of(ctx: Context) -> Caller:
    """The caller ``McpEndpoint`` authenticated for the request carrying this tool call."""
    request = ctx.request_context.request
    caller = request.scope.get(CALLER_KEY) if isinstance(request, Request) else None
    if not isinstance(caller, Caller):
        raise ToolError("not authenticated")
    return caller


class McpEndpoint:
    """The ``/mcp`` route: the API's token check, then the MCP session manager."""

    def __init__(self, pq: ProofQueue, pools: Pools, gate: Gate) -> None:
        self.gate = gate
        server = build_server(pq, pools, caller_of)
        # Builds the session manager (its Starlette app is not used: this route is ours).
        server.streamable_http_app(
            json_response=True,
            stateless_http=True,
            # The app's Guard applies the Host and Origin rules to every route.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=MAX_BODY,
        )
        self.manager: StreamableHTTPSessionManager = server.session_manager
        self.running = False

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the session manager while the server runs."""
        async with self.manager.run():
            self.running = True
            try:
                yield
            finally:
                self.running = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            scope[CALLER_KEY] = await self.gate.caller(Request(scope))
        except Problem as exc:
            await error(exc.status, exc.message, exc.headers)(scope, receive, send)
            return
        except ProofQueueError as exc:
            await error(status_of(exc), str(exc))(scope, receive, send)
            return
        if not self.running:
            await error(503, "MCP is not running: the server's lifespan has not started")(
                scope, receive, send
            )
            return
        await self.manager.handle_request(scope, receive, send)
