"""The MCP tools in process (the SDK's in-memory client) on a real SQLite store with a fake
vendor: their schemas and annotations, roles, one-line tool errors, and receipts checked
offline with and without the log's key. The ``/mcp`` route's token check, in process too."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent
from pydantic import SecretStr

from proofqueue import ProofQueue, Settings
from proofqueue.domain.access import ALLOWED, Action, Role
from proofqueue.entrypoints.http import close_app, create_app
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.pools import Pools
from proofqueue.entrypoints.mcp.server import build_server
from proofqueue.entrypoints.mcp.stdio import local_caller
from proofqueue.testing.fakes import FakeVendor

PRIVATE, VERIFIER = ProofQueue.new_signing_key("example.com/proofqueue")
ORDER = {"target": "0xabc/logo", "params": {"brief": "fox"}}


def caller(name: str, role: Role) -> Caller:
    return Caller(name, role.value, ALLOWED[role], Action.READ_ANY_INTENT in ALLOWED[role])


def text_of(result: CallToolResult) -> str:
    """The text block every tool answer carries (the JSON of the result, or the error)."""
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


class Shop:
    """A ProofQueue with a fake vendor; ``call`` runs one tool as one caller, in process."""

    def __init__(self, store: str, key: str | None = PRIVATE) -> None:
        self.vendor = FakeVendor()
        settings = Settings(store=store, signing_key=SecretStr(key) if key else None)
        self.pq = ProofQueue(settings, vendor=self.vendor)
        self.pools = Pools(self.pq)

    def call(self, who: Caller, tool: str, **arguments: Any) -> CallToolResult:
        server = build_server(self.pq, self.pools, lambda ctx: who)

        async def run() -> CallToolResult:
            async with Client(server) as client:
                return await client.call_tool(tool, arguments)

        return asyncio.run(run())

    def ok(self, who: Caller, tool: str, **arguments: Any) -> dict[str, Any]:
        result = self.call(who, tool, **arguments)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        assert json.loads(text_of(result)) == result.structured_content
        found: dict[str, Any] = result.structured_content
        return found

    def refused(self, who: Caller, tool: str, **arguments: Any) -> str:
        result = self.call(who, tool, **arguments)
        assert result.is_error
        text = text_of(result)
        assert "\n" not in text
        assert "Traceback" not in text
        return text

    def bought(self, request_id: str) -> str:
        """The vendor's job for ``request_id`` once the attempt started by submit_intent (in
        the vendor pool) has been recorded."""
        deadline = time.monotonic() + 10
        while self.pq.receipt(request_id).status != "SUBMITTED":
            assert time.monotonic() < deadline, "the attempt was not recorded"
            time.sleep(0.02)
        return self.vendor.jobs_for(request_id)[0].job_id

    def settle(self, request_id: str) -> None:
        job = self.bought(request_id)
        self.vendor.set_phase(job, "COMPLETED", deliverable_id=f"deliv-{request_id}")
        assert self.pq.parts.manager is not None
        self.pq.parts.manager.follow(request_id, job)


AGENT = caller("agent-7", Role.AGENT)
OTHER = caller("agent-9", Role.AGENT)
OPERATOR = caller("alice", Role.OPERATOR)
AUDITOR = caller("audrey", Role.AUDITOR)


@pytest.fixture
def shop(sqlite_store: str) -> Iterator[Shop]:
    shop = Shop(sqlite_store)
    yield shop
    shop.pools.close()
    shop.pq.close()


def test_the_tools_are_listed_with_their_schemas_and_annotations(shop: Shop) -> None:
    """Five tools, design.md's names and arguments; submit_intent idempotent, not
    destructive, open world; the other four read-only; each with an object output schema."""
    server = build_server(shop.pq, shop.pools, lambda ctx: AGENT)

    async def run() -> list[Any]:
        async with Client(server) as client:
            return list((await client.list_tools()).tools)

    tools = {tool.name: tool for tool in asyncio.run(run())}
    assert list(tools) == [
        "submit_intent",
        "get_receipt",
        "verify_receipt",
        "vendor_health",
        "list_intents",
    ]
    arguments = {name: set(tool.input_schema["properties"]) for name, tool in tools.items()}
    assert arguments == {
        "submit_intent": {"request_id", "target", "params", "wait_s"},
        "get_receipt": {"request_id"},
        "verify_receipt": {"receipt"},
        "vendor_health": set(),
        "list_intents": {"status", "limit"},
    }
    submit = tools["submit_intent"].annotations
    assert (submit.idempotent_hint, submit.destructive_hint, submit.open_world_hint) == (
        True,
        False,
        True,
    )
    assert submit.read_only_hint is False
    for name in ("get_receipt", "verify_receipt", "vendor_health", "list_intents"):
        assert tools[name].annotations.read_only_hint is True, name
    for tool in tools.values():
        assert tool.output_schema["type"] == "object"
    assert "tlog_proof" in tools["get_receipt"].output_schema["properties"]
    assert {"new", "final", "status"} <= set(tools["submit_intent"].output_schema["properties"])


def test_an_agent_submits_as_itself_and_a_resubmit_buys_nothing(shop: Shop) -> None:
    """The actor is the caller's name; the same request again is the same intent (new
    false), one job at the vendor; other params under it are a one-line refusal."""
    first = shop.ok(AGENT, "submit_intent", request_id="o-1", **ORDER)
    assert (first["actor"], first["new"], first["final"]) == ("agent-7", True, False)
    job = shop.bought("o-1")
    again = shop.ok(AGENT, "submit_intent", request_id="o-1", **ORDER)
    assert (again["new"], again["status"], again["job_id"]) == (False, "SUBMITTED", job)
    assert len(shop.vendor.jobs_for("o-1")) == 1
    other = shop.refused(AGENT, "submit_intent", request_id="o-1", target="0xabc/logo")
    assert "already used" in other


def test_an_agent_reads_its_own_receipts_only(shop: Shop) -> None:
    """get_receipt of another agent's intent is answered like an unknown request_id;
    operators and auditors read every receipt."""
    shop.ok(AGENT, "submit_intent", request_id="o-1", **ORDER)
    shop.settle("o-1")
    own = shop.ok(AGENT, "get_receipt", request_id="o-1")
    assert (own["status"], own["deliverable_id"]) == ("SETTLED", "deliv-o-1")
    assert "no intent with request_id 'o-1'" in shop.refused(OTHER, "get_receipt", request_id="o-1")
    assert "no intent with request_id 'nope'" in shop.refused(
        AGENT, "get_receipt", request_id="nope"
    )
    assert shop.ok(AUDITOR, "get_receipt", request_id="o-1") == own
    assert shop.ok(OPERATOR, "get_receipt", request_id="o-1") == own


def test_each_role_may_use_only_its_tools(shop: Shop) -> None:
    """An agent may not list intents, an auditor may not submit; health is for every role."""
    shop.ok(AGENT, "submit_intent", request_id="o-1", **ORDER)
    shop.bought("o-1")
    assert "the agent role may not list" in shop.refused(AGENT, "list_intents")
    assert "the auditor role may not submit" in shop.refused(
        AUDITOR, "submit_intent", request_id="o-2", **ORDER
    )
    listed = shop.ok(OPERATOR, "list_intents", status=["SUBMITTED"], limit=5)
    assert [row["request_id"] for row in listed["intents"]] == ["o-1"]
    assert shop.ok(AUDITOR, "list_intents", status=["FAILED"])["count"] == 0
    for who in (AGENT, OPERATOR, AUDITOR):
        health = shop.ok(who, "vendor_health")
        assert (health["state"], health["damaged_events"]) == ("OK", 0)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"request_id": 42, "target": "0xabc/logo"}, "request_id"),
        ({"request_id": "o-1", "target": "0xabc/logo", "wait_s": 999}, "wait_s"),
        ({"request_id": "o-1", "target": "0xabc/logo", "params": [1, 2]}, "params"),
        ({"request_id": "has space", "target": "0xabc/logo"}, "request_id"),
        ({"request_id": "o-1", "target": "no-slash"}, "target"),
        ({"target": "0xabc/logo"}, "request_id"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_argument(
    shop: Shop, arguments: dict[str, Any], named: str
) -> None:
    """Schema and domain refusals alike: a tool error of one line naming the argument."""
    text = shop.refused(AGENT, "submit_intent", **arguments)
    assert named in text
    assert shop.pq.counts() == {} or sum(shop.pq.counts().values()) == 0


def test_a_statuses_list_outside_the_enum_is_refused(shop: Shop) -> None:
    """list_intents takes the five statuses only."""
    assert "status" in shop.refused(OPERATOR, "list_intents", status=["DONE"])


def test_verify_receipt_checks_a_signed_receipt_and_names_a_tampered_field(shop: Shop) -> None:
    """With the log's key: a settled, checkpointed receipt is ok with its signature checked;
    the same receipt with another deliverable fails the inclusion check."""
    shop.ok(AGENT, "submit_intent", request_id="o-1", **ORDER)
    assert not shop.ok(
        AGENT, "verify_receipt", receipt=shop.ok(AGENT, "get_receipt", request_id="o-1")
    )["ok"]
    shop.settle("o-1")
    assert shop.pq.sign_checkpoint() is not None
    receipt = shop.ok(AGENT, "get_receipt", request_id="o-1")
    assert receipt["tlog_proof"]
    good = shop.ok(AGENT, "verify_receipt", receipt=receipt)
    assert (good["ok"], good["signature_checked"], good["verifier_key"]) == (True, True, VERIFIER)
    assert (good["origin"], good["index"], good["size"]) == ("example.com/proofqueue", 0, 1)
    forged = shop.ok(AGENT, "verify_receipt", receipt={**receipt, "deliverable_id": "other"})
    assert (forged["ok"], forged["check"]) == (False, "inclusion")


def test_verify_receipt_without_a_key_checks_inclusion_only_and_says_so(
    shop: Shop, tmp_path: Any
) -> None:
    """A server without PROOFQUEUE_SIGNING_KEY checks the leaf and inclusion (a forged field
    still fails) and answers signature_checked false."""
    shop.ok(AGENT, "submit_intent", request_id="o-1", **ORDER)
    shop.settle("o-1")
    shop.pq.sign_checkpoint()
    receipt = shop.ok(AGENT, "get_receipt", request_id="o-1")
    keyless = Shop(shop.pq.settings.store, key=None)
    try:
        found = keyless.ok(AGENT, "verify_receipt", receipt=receipt)
        assert (found["ok"], found["signature_checked"], found["verifier_key"]) == (
            True,
            False,
            None,
        )
        forged = keyless.ok(AGENT, "verify_receipt", receipt={**receipt, "attempts": 9})
        assert (forged["ok"], forged["check"]) == (False, "inclusion")
        assert "receipt" in keyless.refused(AGENT, "verify_receipt", receipt="not json")
    finally:
        keyless.pools.close()
        keyless.pq.close()


def test_the_stdio_actor_is_checked_like_an_intents_actor() -> None:
    """``--actor`` with a control character is refused before serving, naming the actor."""
    from proofqueue.domain.errors import InvalidInput

    assert local_caller("agent-1").name == "agent-1"
    with pytest.raises(InvalidInput, match="actor"):
        local_caller("bad\nactor")


def test_the_mcp_route_needs_a_token_and_a_running_lifespan(shop: Shop) -> None:
    """POST /mcp without a token (or with it in a cookie): 401 JSON; with one, before the
    app's lifespan has started the MCP server: 503 JSON; GET: 405; another site's Origin:
    403 from the app's guard. No answer carries a CORS header."""
    app = create_app(shop.pq)
    token = shop.pq.create_token("agent-7", "agent")[1]

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            auth = {"Authorization": f"Bearer {token}"}
            return [
                await http.post("/mcp", json=body),
                await http.post("/mcp", json=body, headers={"Authorization": "Bearer pq_nope"}),
                await http.post("/mcp", json=body, headers=auth),
                await http.get("/mcp", headers=auth),
                await http.post("/mcp", json=body, headers={**auth, "Origin": "http://evil.test"}),
                await http.post("/mcp", json=body, headers={"Cookie": f"token={token}"}),
            ]

    try:
        answers = asyncio.run(run())
    finally:
        close_app(app)
    assert [a.status_code for a in answers] == [401, 401, 503, 405, 403, 401]
    assert all("access-control-allow-origin" not in a.headers for a in answers)
    assert all(set(a.json()) == {"error"} for a in answers)
