"""``proofqueue mcp``: the MCP server over stdio, for an agent host that starts it.

The actor recorded for every intent is ``--actor``; over stdio the caller has every role,
as the local user who can run any ``proofqueue`` command on this store anyway. Log lines go
to stderr (stdout carries the protocol).
"""

from __future__ import annotations

import anyio

from proofqueue.api import ProofQueue
from proofqueue.domain.access import Action
from proofqueue.domain.request import parse_request
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.pools import Pools
from proofqueue.entrypoints.mcp.server import build_server


def local_caller(actor: str) -> Caller:
    """The stdio caller: ``actor`` (checked as an intent's actor is) with every role."""
    parse_request("-", actor, "-/-", {})  # raises InvalidInput naming the actor
    return Caller(actor, "local", frozenset(Action), True, local=True)


def run_stdio(pq: ProofQueue, caller: Caller) -> None:
    """Serve MCP on stdin/stdout until the client closes stdin."""
    pools = Pools(pq)
    server = build_server(pq, pools, lambda ctx: caller)
    try:
        anyio.run(server.run_stdio_async)
    finally:
        pools.close()
