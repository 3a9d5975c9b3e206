"""The MCP server over streamable HTTP, behind ``mount.McpMount`` (which has checked the
caller's token and kept the caller in the request's scope).

The session manager is stateless and answers JSON: each POST is one self-contained
exchange, so there is no server-side session to take over or leak, and any of several
``serve`` processes can answer. Only POST is routed (a GET for a server-sent event stream
is answered 405, which the protocol allows). The role checks are the tools' own: a role
that may not is a tool error. The app's Guard applies the Host and Origin rules before
any of this; nothing adds CORS headers.
"""

from __future__ import annotations

import anyio
from anyio.abc import TaskStatus
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from proofqueue.api import ProofQueue
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.parsing import MAX_BODY
from proofqueue.entrypoints.http.pools import Pools
from proofqueue.entrypoints.mcp.mount import CALLER_KEY
from proofqueue.entrypoints.mcp.server import build_server


def caller_of(ctx: Context) -> Caller:
    """The caller ``McpMount`` authenticated for the request carrying this tool call."""
    request = ctx.request_context.request
    caller = request.scope.get(CALLER_KEY) if isinstance(request, Request) else None
    if not isinstance(caller, Caller):
        raise ToolError("not authenticated")
    return caller


class McpEndpoint:
    """The MCP server of one app, answering the requests ``McpMount`` lets through."""

    def __init__(self, pq: ProofQueue, pools: Pools) -> None:
        server = build_server(pq, pools, caller_of)
        # Builds the session manager (its Starlette app is not used: the route is ours).
        server.streamable_http_app(
            json_response=True,
            stateless_http=True,
            # The app's Guard applies the Host and Origin rules to every route.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=MAX_BODY,
        )
        self.manager: StreamableHTTPSessionManager = server.session_manager

    async def serve(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the session manager until cancelled (``task_status`` once it has started)."""
        async with self.manager.run():
            task_status.started()
            await anyio.sleep_forever()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.manager.handle_request(scope, receive, send)
