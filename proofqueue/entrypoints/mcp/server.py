"""The MCP server: the SDK's ``MCPServer`` with the five tools and their annotations.

``build_server`` is shared by both transports (stdio and the ``/mcp`` route of ``serve``);
only how the caller is found differs. Arguments that do not match a tool's input schema are
answered as one line naming the argument (the SDK's own message is pydantic's multi-line
report).
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp_types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import ValidationError

from proofqueue.api import ProofQueue
from proofqueue.entrypoints.http.pools import Pools
from proofqueue.entrypoints.mcp.tools import CallerOf, Tools

INSTRUCTIONS = (
    "proofqueue buys jobs from a vendor for you, once per request_id, even while the vendor"
    " is down, and proves what happened. submit_intent records and buys; get_receipt reads"
    " its outcome; verify_receipt checks a receipt offline; vendor_health says whether the"
    " vendor is up; list_intents (operators, auditors) shows what waits and why."
)

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

# name -> (title, annotations); the order is the order tools are listed in.
ANNOTATIONS: dict[str, tuple[str, ToolAnnotations]] = {
    "submit_intent": (
        "Buy a job from the vendor (idempotent)",
        ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
    ),
    "get_receipt": ("Read an intent's receipt", READ_ONLY),
    "verify_receipt": ("Check a receipt offline", READ_ONLY),
    "vendor_health": ("Vendor circuit breaker and backlog", READ_ONLY),
    "list_intents": ("List intents (operators, auditors)", READ_ONLY),
}


class ProofQueueServer(MCPServer):
    """``MCPServer`` whose argument errors are one line each."""

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any],
        context: Context | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Call the tool; a ValidationError of its arguments becomes one ToolError line."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError) and not isinstance(exc, UnexpectedToolError):
                raise ToolError(f"Error executing tool {name}: {one_line(cause)}") from cause
            raise


def one_line(error: ValidationError) -> str:
    """``field: problem; field: problem`` from pydantic's report (at most three)."""
    shown = []
    for item in error.errors(include_url=False)[:3]:
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        shown.append(f"{where}: {' '.join(str(item['msg']).split())}")
    more = f" (and {error.error_count() - 3} more)" if error.error_count() > 3 else ""
    return "; ".join(shown) + more


def build_server(pq: ProofQueue, pools: Pools, caller_of: CallerOf) -> ProofQueueServer:
    """The MCP server of ``pq``'s five tools; ``caller_of`` finds who calls each tool."""
    tools = Tools(pq, pools, caller_of)
    server = ProofQueueServer(
        "proofqueue", instructions=INSTRUCTIONS, version=_version(), log_level="WARNING"
    )
    for name, (title, hints) in ANNOTATIONS.items():
        server.add_tool(
            getattr(tools, name),
            name=name,
            title=title,
            annotations=hints.model_copy(update={"title": title}),
            structured_output=True,
        )
    return server


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("proofqueue")
    except PackageNotFoundError:
        return "0"
