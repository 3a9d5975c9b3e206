"""The MCP tools through real processes, driven by the MCP Python SDK's own client:
``proofqueue mcp`` over stdio, and ``/mcp`` in ``proofqueue serve`` over streamable HTTP
with the HTTP API's tokens, each against the vendor simulator on a SQLite file."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from proofqueue import ProofQueue, Settings
from tests.e2e.procs import sim_stats, vendor_sim
from tests.e2e.served import serving

ORDER = {"target": "0xabc/logo", "params": {"brief": "fox"}}
TOOLS = ["submit_intent", "get_receipt", "verify_receipt", "vendor_health", "list_intents"]


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One vendor simulator for the module (each test buys under its own request_id)."""
    with vendor_sim(tmp_path_factory.mktemp("sim"), "--complete-after", "0.3") as url:
        yield url


def _env(store: str, vendor: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROOFQUEUE_")}
    return {**env, "PROOFQUEUE_STORE": store, "PROOFQUEUE_VENDOR_URL": vendor}


def _text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def _session(client: Client, actor: str, request_id: str) -> dict[str, Any]:
    """List the tools, submit and wait for the receipt, read it again, check health."""
    tools = (await client.list_tools()).tools
    assert [tool.name for tool in tools] == TOOLS
    for tool in tools:
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None
        assert tool.annotations is not None
    submitted = await client.call_tool(
        "submit_intent", {"request_id": request_id, **ORDER, "wait_s": 20}
    )
    assert not submitted.is_error, _text(submitted)
    receipt: dict[str, Any] | None = submitted.structured_content
    assert receipt is not None
    assert (receipt["status"], receipt["actor"], receipt["new"]) == ("SETTLED", actor, True)
    again = await client.call_tool("get_receipt", {"request_id": request_id})
    assert again.structured_content == {
        k: v for k, v in receipt.items() if k not in ("new", "final")
    }
    health = await client.call_tool("vendor_health", {})
    assert health.structured_content is not None
    assert health.structured_content["state"] == "OK"
    unknown = await client.call_tool("get_receipt", {"request_id": "nope"})
    assert unknown.is_error
    assert _text(unknown).count("\n") == 0
    assert "no intent with request_id 'nope'" in _text(unknown)
    return receipt


def test_proofqueue_mcp_over_stdio(sqlite_store: str, vendor: str, tmp_path: Path) -> None:
    """The SDK's client starts `proofqueue mcp --actor agent-1`: five tools with schemas and
    annotations; a submit settles within its wait as agent-1, once at the vendor; the
    receipt reads back; health is OK; the stdio caller may list intents."""
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "proofqueue", "mcp", "--actor", "agent-1"],
        env=_env(sqlite_store, vendor),
    )

    async def run() -> tuple[dict[str, Any], CallToolResult]:
        with (tmp_path / "mcp.log").open("w") as errlog:
            async with Client(stdio_client(server, errlog=errlog)) as client:
                receipt = await _session(client, "agent-1", "o-stdio")
                listed = await client.call_tool("list_intents", {"status": ["SETTLED"]})
                return receipt, listed

    receipt, listed = asyncio.run(run())
    assert sim_stats(vendor)["jobs_per_request_id"]["o-stdio"] == 1
    assert listed.structured_content is not None
    assert [row["request_id"] for row in listed.structured_content["intents"]] == ["o-stdio"]
    with ProofQueue(Settings(store=sqlite_store)) as pq:
        assert pq.receipt("o-stdio").proof == receipt["proof"]
    assert "Traceback" not in (tmp_path / "mcp.log").read_text()


def test_mcp_at_slash_mcp_in_serve_with_the_apis_tokens(
    sqlite_store: str, vendor: str, tmp_path: Path
) -> None:
    """`serve` answers MCP at /mcp: an agent token's name is the actor, the same session as
    over stdio works; the agent may not list intents (a tool error), an operator may; no
    token is a 401 JSON answer, and the SDK's client without one fails to connect."""
    env = _env(sqlite_store, vendor)
    with ProofQueue(Settings(store=sqlite_store)) as pq:
        agent = pq.create_token("agent-7", "agent")[1]
        boss = pq.create_token("alice", "operator")[1]
    with serving(env, tmp_path / "serve.log") as url:

        async def as_(token: str | None, calls: Any) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
                transport = streamable_http_client(f"{url}/mcp", http_client=http)
                async with Client(transport) as client:
                    return await calls(client)

        async def agent_session(client: Client) -> tuple[dict[str, Any], CallToolResult]:
            receipt = await _session(client, "agent-7", "o-http")
            return receipt, await client.call_tool("list_intents", {})

        async def operator_list(client: Client) -> CallToolResult:
            return await client.call_tool("list_intents", {"limit": 10})

        receipt, refused = asyncio.run(as_(agent, agent_session))
        listed = asyncio.run(as_(boss, operator_list))
        bare = httpx.post(
            f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=10
        )
        with pytest.raises(ExceptionGroup) as refusal:
            asyncio.run(as_(None, operator_list))
    assert sim_stats(vendor)["jobs_per_request_id"]["o-http"] == 1
    assert receipt["actor"] == "agent-7"
    assert refused.is_error
    assert "the agent role may not list" in _text(refused)
    assert listed.structured_content is not None
    assert [row["request_id"] for row in listed.structured_content["intents"]] == ["o-http"]
    assert bare.status_code == 401
    assert set(bare.json()) == {"error"}
    assert any(isinstance(leaf, MCPError) for leaf in _leaves(refusal.value))


def _leaves(group: BaseException) -> list[BaseException]:
    """The errors inside (nested) exception groups."""
    if isinstance(group, BaseExceptionGroup):
        return [leaf for inner in group.exceptions for leaf in _leaves(inner)]
    return [group]
