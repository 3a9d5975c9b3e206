"""``/mcp`` in the HTTP app, whether or not the MCP SDK is installed: ``mcp_mount``.

With ``proofqueue[mcp]`` the route is ``http.McpEndpoint`` and the app's lifespan runs its
session manager; without it, ``/mcp`` answers 501 JSON naming the extra to install. This
module imports no part of the SDK itself.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proofqueue.api import ProofQueue
from proofqueue.entrypoints.http.answers import error
from proofqueue.entrypoints.http.auth import Gate
from proofqueue.entrypoints.http.pools import Pools

PATH = "/mcp"


@dataclass(frozen=True)
class McpMount:
    """The ``/mcp`` route and the lifespan the app must run for it."""

    route: Route
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]]


def mcp_mount(pq: ProofQueue, pools: Pools, gate: Gate) -> McpMount:
    """``/mcp`` over ``pq``, behind ``gate``'s tokens (501 without the MCP SDK)."""
    if importlib.util.find_spec("mcp") is None:
        return McpMount(Route(PATH, _not_installed, methods=["POST"]), _nothing)
    from proofqueue.entrypoints.mcp.http import McpEndpoint

    endpoint = McpEndpoint(pq, pools, gate)

    def lifespan(app: Starlette) -> AbstractAsyncContextManager[None]:
        return endpoint.lifespan()

    return McpMount(Route(PATH, endpoint, methods=["POST"]), lifespan)


async def _not_installed(request: Request) -> Response:
    return error(501, "MCP is not installed here: pip install 'proofqueue[mcp]'")


@asynccontextmanager
async def _nothing(app: Starlette) -> AsyncIterator[None]:
    yield
