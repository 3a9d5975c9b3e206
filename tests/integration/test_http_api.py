"""The HTTP API in process (httpx.ASGITransport) on both stores: tokens and roles, the Host
and Origin rules, malformed input, JSON errors for everything, waiting submits."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from proofqueue import JobOrder, ProofQueue, Settings, Transient
from proofqueue.entrypoints.http import OPENAPI, close_app, create_app
from proofqueue.testing import FakeVendor
from tests.integration.helpers import RawStore

ORDER = {"request_id": "order-1", "target": "0xabc/logo", "params": {"brief": "fox"}}


class Api:
    """One app over one ProofQueue; each call is one request through httpx.ASGITransport."""

    def __init__(self, pq: ProofQueue, **options: Any) -> None:
        self.pq = pq
        self.app: Starlette = create_app(pq, **options)
        self.tokens: dict[str, str] = {}

    def token(self, name: str, role: str) -> str:
        self.tokens[name] = self.pq.create_token(name, role)[1]
        return self.tokens[name]

    async def acall(
        self, method: str, path: str, as_: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    def call(self, method: str, path: str, as_: str | None = None, **kwargs: Any) -> httpx.Response:
        return asyncio.run(self.acall(method, path, as_, **kwargs))


@pytest.fixture
def pq(store: str) -> Iterator[ProofQueue]:
    with ProofQueue(Settings(store=store)) as queue:
        yield queue


@pytest.fixture
def api(pq: ProofQueue) -> Iterator[Api]:
    api = Api(pq)
    api.token("agent-7", "agent")
    api.token("agent-9", "agent")
    api.token("alice", "operator")
    api.token("audrey", "auditor")
    yield api
    close_app(api.app)


def events(pq: ProofQueue) -> int:
    return pq.verify().events


# -- tokens ----------------------------------------------------------------------------------


def test_a_request_without_a_token_is_refused_with_401(api: Api) -> None:
    """No Authorization header: 401 with a JSON error saying how to send one."""
    for method, path in [("GET", "/health"), ("GET", "/intents"), ("POST", "/intents")]:
        answer = api.call(method, path, json=ORDER)
        assert answer.status_code == 401
        assert "Bearer" in answer.json()["error"]
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert events(api.pq) == 0


@pytest.mark.parametrize(
    "header",
    [
        "Bearer pq_not-a-real-token",
        "Bearer ",
        "Basic YWxpY2U6c2VjcmV0",
        "pq_missing-the-scheme",
        "Bearer " + "pq_" + "x" * 5000,
    ],
)
def test_a_bad_token_is_refused_with_401(api: Api, header: str) -> None:
    """A token that is not an active one, or not sent as Bearer, is refused with 401."""
    answer = api.call("POST", "/intents", json=ORDER, headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid or revoked access token"}
    assert events(api.pq) == 0


def test_a_token_in_a_cookie_or_the_query_is_not_a_token(api: Api) -> None:
    """Cookies and query strings never authenticate (no CSRF surface)."""
    token = api.tokens["alice"]
    cookie = {"Cookie": f"token={token}; Authorization=Bearer%20{token}"}
    assert api.call("GET", "/health", headers=cookie).status_code == 401
    assert api.call("GET", f"/health?token={token}").status_code == 401


def test_a_revoked_token_is_refused_with_401(api: Api) -> None:
    """Once revoked, a token is refused at the next request."""
    assert api.call("GET", "/health", "alice").status_code == 200
    api.pq.revoke_token("alice")
    answer = api.call("GET", "/health", "alice")
    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid or revoked access token"}


def test_the_token_is_not_stored_in_clear_anywhere_in_the_store(api: Api, store: str) -> None:
    """Only the token's SHA-256 is stored: its text appears nowhere in the store's bytes."""
    api.call("POST", "/intents", "agent-7", json=ORDER)
    raw = RawStore(store).everything()
    assert b"agent-7" in raw  # the scan does see the store's contents
    for token in api.tokens.values():
        assert token.encode() not in raw
        assert token.removeprefix("pq_").encode() not in raw


# -- roles -----------------------------------------------------------------------------------


def test_an_agent_submits_as_itself_and_gets_201_then_200(api: Api) -> None:
    """The actor is the token's name; a new intent answers 201, the same request again 200."""
    first = api.call("POST", "/intents", "agent-7", json=ORDER)
    assert first.status_code == 201
    assert first.json()["actor"] == "agent-7"
    assert first.json()["status"] == "QUEUED"
    again = api.call("POST", "/intents", "agent-7", json={**ORDER, "actor": "agent-7"})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert events(api.pq) == 1


def test_an_agent_cannot_submit_as_another_actor(api: Api) -> None:
    """A body naming another actor is refused with 403; nothing is written."""
    answer = api.call("POST", "/intents", "agent-7", json={**ORDER, "actor": "agent-9"})
    assert answer.status_code == 403
    assert "actor" in answer.json()["error"]
    assert events(api.pq) == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/intents", None),
        ("GET", "/intents/order-1", None),
        ("POST", "/intents/order-1/cancel", {"reason": "mine"}),
        ("POST", "/intents/order-1/retry", {}),
        ("GET", "/verify", None),
        ("GET", "/replay", None),
    ],
)
def test_an_agent_cannot_list_read_trails_retry_cancel_verify_or_replay(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """Each is 403 for an agent, even on its own intent, and changes nothing."""
    api.call("POST", "/intents", "agent-7", json=ORDER)
    answer = api.call(method, path, "agent-7", json=body)
    assert answer.status_code == 403
    assert "agent role may not" in answer.json()["error"]
    assert api.pq.receipt("order-1").status == "QUEUED"
    assert events(api.pq) == 1


def test_an_agent_cannot_read_another_actors_receipt(api: Api) -> None:
    """Another actor's receipt answers exactly as an unknown request_id does: 404."""
    api.call("POST", "/intents", "agent-7", json=ORDER)
    own = api.call("GET", "/intents/order-1/receipt", "agent-7")
    assert own.status_code == 200
    theirs = api.call("GET", "/intents/order-1/receipt", "agent-9")
    unknown = api.call("GET", "/intents/order-2/receipt", "agent-9")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == {"error": "no intent with request_id 'order-1'"}
    assert unknown.json() == {"error": "no intent with request_id 'order-2'"}
    assert api.call("GET", "/intents/order-1/receipt", "alice").json() == own.json()
    assert api.call("GET", "/intents/order-1/receipt", "audrey").json() == own.json()


def test_the_operator_in_the_trail_is_the_tokens_name_not_the_bodys(api: Api) -> None:
    """Retry and cancel record the token's name even when the body names someone else."""
    api.call("POST", "/intents", "agent-7", json=ORDER)
    retried = api.call("POST", "/intents/order-1/retry", "alice", json={"operator": "mallory"})
    assert retried.status_code == 200
    assert retried.json()["status"] == "RETRYING"
    cancelled = api.call(
        "POST",
        "/intents/order-1/cancel",
        "alice",
        json={"reason": "duplicate order", "operator": "mallory"},
    )
    assert cancelled.json()["status"] == "FAILED"
    trail = api.call("GET", "/intents/order-1", "alice").json()
    assert [e["type"] for e in trail["events"]] == ["Queued", "RetryScheduled", "Failed"]
    assert [e["fields"].get("operator") for e in trail["events"][1:]] == ["alice", "alice"]
    assert "mallory" not in str(trail)


def test_an_operator_lists_and_reads_trails_and_health(api: Api) -> None:
    """The list with filters, the trail, the health view; a refused cancel answers 409."""
    api.call("POST", "/intents", "agent-7", json=ORDER)
    api.call("POST", "/intents", "agent-9", json={**ORDER, "request_id": "order-2"})
    rows = api.call("GET", "/intents?status=QUEUED&actor=agent-9", "alice").json()
    assert [r["request_id"] for r in rows] == ["order-2"]
    assert api.call("GET", "/health", "alice").json()["state"] == "OK"
    api.call("POST", "/intents/order-1/cancel", "alice", json={"reason": "x"})
    again = api.call("POST", "/intents/order-1/cancel", "alice", json={"reason": "x"})
    assert again.status_code == 409
    assert api.call("GET", "/verify", "alice").status_code == 403


def test_health_names_damaged_intents_to_operators_but_not_to_agents(api: Api, store: str) -> None:
    """An event of agent-9's intent damaged in the store: operators and auditors see its
    request_id in /health; an agent sees the breaker and the backlog, not which other
    actor's intent is damaged."""
    api.pq.submit("secret-project", actor="agent-9", target="0xabc/logo", params={"brief": "fox"})
    api.pq.retry("secret-project", operator="ops")
    RawStore(store).replace_in_state("secret-project", 2, 'ops"', "ops")  # unreadable JSON
    seen = api.call("GET", "/health", "alice").json()
    assert [d["request_id"] for d in seen["damaged"]] == ["secret-project"]
    assert api.call("GET", "/health", "audrey").json()["damaged"] == seen["damaged"]
    agent = api.call("GET", "/health", "agent-7")
    assert agent.status_code == 200
    assert agent.json()["damaged"] == []
    assert agent.json()["state"] == seen["state"]
    assert "secret-project" not in agent.text


def test_an_auditor_reads_verifies_and_replays_but_changes_nothing(api: Api) -> None:
    """Verify and replay answer; submit, retry and cancel are 403 and write nothing."""
    api.call("POST", "/intents", "agent-7", json=ORDER)
    assert api.call("GET", "/verify", "audrey").json()["ok"] is True
    assert api.call("GET", "/verify?request_id=order-1", "audrey").json()["intents"] == 1
    assert api.call("GET", "/replay?check=true", "audrey").json()["ok"] is True
    as_of = api.call("GET", "/replay?as_of=2001-01-01T00:00:00Z", "audrey").json()
    assert as_of["intents"] == []
    assert len(api.call("GET", "/intents", "audrey").json()) == 1
    assert api.call("GET", "/intents/order-1", "audrey").status_code == 200
    for method, path, body in [
        ("POST", "/intents", {**ORDER, "request_id": "order-2"}),
        ("POST", "/intents/order-1/retry", {}),
        ("POST", "/intents/order-1/cancel", {"reason": "x"}),
    ]:
        assert api.call(method, path, "audrey", json=body).status_code == 403
    assert events(api.pq) == 1


# -- Host, Origin, content type --------------------------------------------------------------


def test_a_cross_site_text_plain_post_is_refused_and_writes_nothing(api: Api) -> None:
    """A browser form on another site (Origin set, text/plain) is 403 before any handler."""
    import json

    for origin in ["https://evil.example", "null", "http://localhost.evil.example"]:
        answer = api.call(
            "POST",
            "/intents",
            "agent-7",
            content=json.dumps(ORDER),
            headers={"Content-Type": "text/plain", "Origin": origin},
        )
        assert answer.status_code == 403
        assert "Origin" in answer.json()["error"]
        assert not any(h.lower().startswith("access-control-") for h in answer.headers)
    fetch = api.call(
        "POST", "/intents", "agent-7", json=ORDER, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert fetch.status_code == 403
    assert events(api.pq) == 0
    same = api.call(
        "POST", "/intents", "agent-7", json=ORDER, headers={"Origin": "http://localhost"}
    )
    assert same.status_code == 201


def test_a_body_that_is_not_application_json_is_refused_with_415(api: Api) -> None:
    """text/plain or form bodies are 415 even from the right origin; nothing is written."""
    for ctype in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]:
        answer = api.call(
            "POST", "/intents", "agent-7", content=b"{}", headers={"Content-Type": ctype}
        )
        assert answer.status_code == 415
        assert "application/json" in answer.json()["error"]
    assert events(api.pq) == 0


def test_a_body_over_256_kib_is_refused_with_413(api: Api) -> None:
    """An oversized body is refused with a JSON 413 before it is parsed; nothing written."""
    big = {**ORDER, "params": {"brief": "x" * 300_000}}
    answer = api.call("POST", "/intents", "agent-7", json=big)
    assert answer.status_code == 413
    assert "at most" in answer.json()["error"]
    assert events(api.pq) == 0


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.2", "", "a b"])
def test_a_foreign_host_is_refused(api: Api, host: str) -> None:
    """A Host the server was not started for (DNS rebinding) is 403 before any handler."""
    answer = api.call("POST", "/intents", "agent-7", json=ORDER, headers={"Host": host})
    assert answer.status_code == 403
    assert "Host" in answer.json()["error"]
    assert events(api.pq) == 0


def test_loopback_names_the_bound_host_and_allowed_hosts_are_served(pq: ProofQueue) -> None:
    """localhost, 127.0.0.1, [::1], the bound address and --allowed-host names pass."""
    api = Api(pq, host="10.1.2.3", allowed_host=("pq.internal",))
    api.token("alice", "operator")
    try:
        for host in ["localhost:8080", "127.0.0.1", "[::1]:9", "10.1.2.3:80", "PQ.internal"]:
            answer = api.call("GET", "/health", "alice", headers={"Host": host})
            assert answer.status_code == 200, host
        assert api.call("GET", "/health", "alice", headers={"Host": "x.y"}).status_code == 403
    finally:
        close_app(api.app)


def test_no_answer_carries_cors_headers_and_a_preflight_is_a_json_405(api: Api) -> None:
    """OPTIONS is not served (so no preflight ever succeeds); nothing sends CORS headers."""
    preflight = api.call(
        "OPTIONS",
        "/intents",
        headers={"Origin": "http://localhost", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 405
    assert "error" in preflight.json()
    for answer in [preflight, api.call("GET", "/health", "alice")]:
        assert not any(h.lower().startswith("access-control-") for h in answer.headers)
        assert answer.headers["cache-control"] == "no-store"


# -- malformed input and errors --------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = '{"request_id": "a", "target": "p/o", "wait": ' + "9" * 5000 + "}"


@pytest.mark.parametrize(
    ("method", "path", "content", "named"),
    [
        ("POST", "/intents", DEEP, "nested too deeply"),
        (
            "POST",
            "/intents",
            '{"request_id": "a", "target": "p/o", "wait": ' + "9" * 5000 + "}",
            "number too large",
        ),
        ("POST", "/intents", '{"request_id": "a", "target": "p/o", "wait": NaN}', "NaN"),
        ("POST", "/intents", '{"request_id": "a", "target": "p/o", "wait": 1e999}', "wait"),
        ("POST", "/intents", '{"request_id": "a", "target": "p/o", "wait": "soon"}', "wait"),
        ("POST", "/intents", '{"request_id": "a", "target": "p/o", "wait": true}', "wait"),
        ("POST", "/intents", '{"request_id": "a", "target": "p/o", "wait": 61}', "wait"),
        ("POST", "/intents", '{"request_id": 7, "target": "p/o"}', "request_id"),
        ("POST", "/intents", '{"request_id": "a", "target": "p/o", "params": [1]}', "params"),
        ("POST", "/intents", '{"request_id": "a", "target": 5}', "target"),
        ("POST", "/intents", '{"request_id": "a", "target": "p/o", "colour": 1}', "colour"),
        ("POST", "/intents", "[1, 2", "not valid JSON"),
        ("POST", "/intents", "[1, 2]", "JSON object"),
        ("POST", "/intents", b"\xff\xfe", "UTF-8"),
        ("POST", "/intents", "", "not valid JSON"),
        ("GET", "/intents?offset=99999999999999999999", None, "offset"),
        ("GET", "/intents?offset=-1", None, "offset"),
        ("GET", "/intents?limit=many", None, "limit"),
        ("GET", "/intents?limit=0", None, "limit"),
        ("GET", "/intents?older_than=nan", None, "older_than"),
        ("GET", "/intents?older_than=inf", None, "older_than"),
        ("GET", "/intents?older_than=1e308", None, "older_than"),
        ("GET", "/intents?status=LOST", None, "status"),
        ("GET", "/intents?actor=%00", None, "actor"),
        ("GET", "/intents?limit=1&limit=2", None, "limit"),
        ("GET", "/intents?colour=red", None, "colour"),
        ("GET", "/intents/has%20space/receipt", None, "request_id"),
        ("GET", "/intents/a%00b", None, "request_id"),
        ("GET", "/replay?as_of=yesterday", None, "as_of"),
        ("GET", "/replay?check=maybe", None, "check"),
        ("POST", "/intents/order-1/cancel", '{"reason": 5}', "reason"),
        ("POST", "/intents/order-1/cancel", '{"reason": ""}', "reason"),
    ],
)
def test_malformed_input_answers_a_json_400_naming_the_problem(
    api: Api, method: str, path: str, content: str | bytes | None, named: str
) -> None:
    """Deep JSON, huge numbers and offsets, NaN, wrong types: a 400 naming what is wrong."""
    api.call("POST", "/intents", "agent-7", json=ORDER)
    who = "agent-7" if path == "/intents" and method == "POST" else "alice"
    if path.startswith("/replay"):
        who = "audrey"
    headers = {"Content-Type": "application/json"} if content is not None else {}
    answer = api.call(method, path, who, content=content, headers=headers)
    assert answer.status_code == 400, answer.text
    assert named in answer.json()["error"]
    assert events(api.pq) == 1


def test_unknown_routes_and_wrong_methods_answer_json(api: Api) -> None:
    """An unknown route is a JSON 404, a wrong method a JSON 405."""
    missing = api.call("GET", "/nope", "alice")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no route GET /nope"}
    wrong = api.call("DELETE", "/intents", "alice")
    assert wrong.status_code == 405
    assert "DELETE" in wrong.json()["error"]


def test_an_unexpected_error_answers_a_json_500_without_a_traceback(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug answers {"error": "internal error"}; the traceback goes to the log only."""

    def broken() -> dict[str, Any]:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(api.pq, "health", broken)
    answer = api.call("GET", "/health", "alice")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error"}
    assert "secret detail" not in answer.text
    assert "secret detail" in caplog.text


def test_openapi_describes_every_route(api: Api) -> None:
    """GET /openapi.json (no token needed) lists every route and method the app serves."""
    answer = api.call("GET", "/openapi.json")
    assert answer.status_code == 200
    described = {
        (path, method.upper()) for path, ops in answer.json()["paths"].items() for method in ops
    }
    served = {
        (route.path.replace(":path", ""), method)
        for route in api.app.routes
        if isinstance(route, Route)
        for method in (route.methods or ())
        if method != "HEAD"
    }
    assert described == served
    assert answer.json() == OPENAPI


# -- unauthenticated local mode ---------------------------------------------------------------


def test_insecure_local_mode_acts_as_the_local_user_never_the_bodys_operator(
    pq: ProofQueue,
) -> None:
    """Without a token every role is allowed; the operator recorded is the server's user."""
    api = Api(pq, insecure_local=True)
    try:
        created = api.call("POST", "/intents", json={**ORDER, "actor": "agent-7"})
        assert created.status_code == 201
        assert created.json()["actor"] == "agent-7"
        api.call("POST", "/intents/order-1/cancel", json={"reason": "x", "operator": "mallory"})
        trail = api.call("GET", "/intents/order-1").json()
        assert trail["events"][-1]["fields"]["operator"] not in ("mallory", None)
        bad = api.call("GET", "/health", headers={"Authorization": "Bearer pq_wrong"})
        assert bad.status_code == 401
        foreign = api.call("GET", "/health", headers={"Host": "evil.example"})
        assert foreign.status_code == 403
    finally:
        close_app(api.app)


# -- waiting submits -------------------------------------------------------------------------


class HangingVendor(FakeVendor):
    """Every create hangs until released (a vendor past the client's timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def create_job(self, order: JobOrder) -> Any:
        self.release.wait(30)
        return Transient("timeout", "hung")


class InstantVendor(FakeVendor):
    """Every job is completed as soon as it is created."""

    def create_job(self, order: JobOrder) -> Any:
        outcome = super().create_job(order)
        for job in self.jobs_for(order.request_id):
            self.set_phase(job.job_id, "COMPLETED", deliverable_id=f"d-{job.job_id}")
        return outcome


def test_a_waiting_submit_answers_once_settled(store: str) -> None:
    """With a vendor, wait is spent polling the receipt until it is final."""
    with ProofQueue(Settings(store=store, poll_s=0.05), vendor=InstantVendor()) as pq:
        api = Api(pq)
        api.token("agent-7", "agent")
        try:
            answer = api.call("POST", "/intents", "agent-7", json={**ORDER, "wait": 10})
            assert answer.status_code == 201
            assert answer.json()["status"] == "SETTLED"
        finally:
            close_app(api.app)


def test_waiting_submits_on_a_hanging_vendor_neither_overstay_nor_block_health(
    store: str,
) -> None:
    """30 submits waiting 1.5 s on a vendor that hangs: each answers by its bound, and
    /health answers at once meanwhile."""
    vendor = HangingVendor()
    with ProofQueue(Settings(store=store), vendor=vendor) as pq:
        api = Api(pq)
        api.token("agent-7", "agent")

        async def scenario() -> tuple[list[httpx.Response], list[float], float]:
            submits = [
                asyncio.create_task(
                    api.acall(
                        "POST",
                        "/intents",
                        "agent-7",
                        json={**ORDER, "request_id": f"o-{n}", "wait": 1.5},
                    )
                )
                for n in range(30)
            ]
            await asyncio.sleep(0.3)
            lags = []
            for _ in range(3):
                started = time.monotonic()
                health = await api.acall("GET", "/health", "agent-7")
                assert health.status_code == 200
                lags.append(time.monotonic() - started)
            started = time.monotonic()
            answers = await asyncio.gather(*submits)
            return answers, lags, time.monotonic() - started

        try:
            answers, lags, rest = asyncio.run(scenario())
            assert max(lags) < 1.0
            assert rest < 3.0
            assert {a.status_code for a in answers} == {201}
            assert {a.json()["status"] for a in answers} <= {"QUEUED", "RETRYING"}
        finally:
            vendor.release.set()
            close_app(api.app)


def test_an_operator_holds_and_releases_the_vendor_under_the_tokens_name(store: str) -> None:
    """Hold and release are operator-only; the holder recorded is the token's name."""
    with ProofQueue(Settings(store=store), vendor=FakeVendor()) as pq:
        api = Api(pq)
        api.token("alice", "operator")
        api.token("agent-7", "agent")
        api.token("audrey", "auditor")
        try:
            body = {"reason": "vendor incident", "operator": "mallory"}
            for who in ("agent-7", "audrey"):
                assert api.call("POST", "/vendor/hold", who, json=body).status_code == 403
            held = api.call("POST", "/vendor/hold", "alice", json=body)
            assert held.status_code == 200
            assert held.json()["held"]["by"] == "alice"
            assert held.json()["held"]["reason"] == "vendor incident"
            released = api.call("POST", "/vendor/release", "alice", json={})
            assert released.json()["held"] is None
            assert api.call("GET", "/workers", "audrey").status_code == 200
            assert api.call("GET", "/workers", "agent-7").status_code == 403
        finally:
            close_app(api.app)


def test_the_checkpoint_route_refuses_unknown_query_parameters_with_json(api: Api) -> None:
    """``GET /tlog/checkpoint?x=1`` is a JSON 400 naming the parameter, not a 500; with no
    checkpoint yet the route is a JSON 404; it needs no token (checkpoints are public)."""
    answer = api.call("GET", "/tlog/checkpoint?x=1")
    assert answer.status_code == 400
    assert "x" in answer.json()["error"]
    assert api.call("GET", "/tlog/checkpoint").status_code == 404
