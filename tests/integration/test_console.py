"""The web console and ``/metrics`` in process (httpx.ASGITransport) on both stores: the
page needs no token and carries no data; fragments and actions need one, by role; actions
are recorded with the token's name; a bulk action acts on exactly the confirmed set; the
counters and the backlog's history come from the log."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from proofqueue import ProofQueue, Settings, Transient
from proofqueue.entrypoints.http import close_app, create_app
from proofqueue.testing import FakeVendor

TEMPLATES = Path(__file__).parents[2] / "proofqueue/entrypoints/console/templates"


class Console:
    """One app over one ProofQueue, with tokens by name."""

    def __init__(self, pq: ProofQueue) -> None:
        self.pq = pq
        self.app = create_app(pq)
        self.tokens = {
            "alice": pq.create_token("alice", "operator")[1],
            "audrey": pq.create_token("audrey", "auditor")[1],
            "agent-7": pq.create_token("agent-7", "agent")[1],
        }

    def call(self, method: str, path: str, as_: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[as_]}"} if as_ else {}

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                return await c.request(method, path, headers=headers, **kw)

        return asyncio.run(go())

    def form(self, path: str, as_: str, **fields: str) -> httpx.Response:
        return self.call("POST", path, as_, data=fields)


@pytest.fixture
def console(store: str) -> Iterator[Console]:
    vendor = FakeVendor()
    with ProofQueue(Settings(store=store), vendor=vendor) as pq:
        made = Console(pq)
        yield made
        close_app(made.app)


def _record(pq: ProofQueue, rid: str, actor: str = "agent-7") -> None:
    pq.record(rid, actor=actor, target="0xabc/logo", params={"brief": "fox"})


def test_the_page_needs_no_token_holds_no_data_and_runs_no_inline_code(console: Console) -> None:
    """GET /console answers the page with a strict CSP; no template has an inline script,
    style or event handler (the CSP would block it)."""
    _record(console.pq, "secret-looking-id")
    page = console.call("GET", "/console")
    assert page.status_code == 200
    assert "secret-looking-id" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in page.headers
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), template.name
    htmx = console.call("GET", "/console/static/htmx.min.js")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:200]


def test_fragments_need_a_token_and_the_operator_or_auditor_role(console: Console) -> None:
    """No token: 401; an agent: 403; an auditor sees everything and is offered no action,
    and is refused one (403); an operator is offered retry and cancel."""
    _record(console.pq, "r-1")
    fragments = ["/console/p/breaker", "/console/p/intents", "/console/p/workers"]
    for path in [*fragments, "/console/p/intent?id=r-1", "/metrics"]:
        assert console.call("GET", path).status_code == 401
        assert console.call("GET", path, "agent-7").status_code == 403
        assert console.call("GET", path, "audrey").status_code == 200
    listing = console.call("GET", "/console/p/intents", "audrey").text
    assert "r-1" in listing
    assert "/console/a/retry" not in listing
    assert console.form("/console/a/retry", "audrey", request_id="r-1").status_code == 403
    offered = console.call("GET", "/console/p/intents", "alice").text
    assert "/console/a/retry" in offered
    assert "cancel-form" in offered


def test_a_retry_from_the_console_is_recorded_with_the_tokens_name(console: Console) -> None:
    """The operator recorded is the token's name, whatever the form says."""
    _record(console.pq, "r-1")
    done = console.form("/console/a/retry", "alice", request_id="r-1", operator="mallory")
    assert "retry recorded by alice" in done.text
    assert done.headers["hx-trigger"] == "pq-changed"
    last = console.pq.show("r-1").events[-1]
    assert last.fields["operator"] == "alice"
    refused = console.form("/console/a/cancel", "alice", request_id="r-1", reason=" ")
    assert refused.status_code == 200
    assert "refused" in refused.text
    detail = console.call("GET", "/console/p/intent?id=r-1", "alice").text
    assert "proof chain verified" in detail
    assert "<b>operator</b>=alice" in detail


def _fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', html))


def test_a_bulk_cancel_acts_on_exactly_the_confirmed_set(console: Console) -> None:
    """The preview states how many; an intent queued after it is left alone; a set that
    changed meanwhile is not acted on (the new count is shown to confirm again)."""
    for n in range(3):
        _record(console.pq, f"b-{n}", actor="bulk")
    _record(console.pq, "other", actor="someone-else")
    preview = console.form(
        "/console/a/bulk-preview", "alice", action="cancel", status="QUEUED,RETRYING", actor="bulk"
    )
    assert re.search(r'id="bulk-count">3<', preview.text)
    fields = _fields(preview.text)
    _record(console.pq, "b-late", actor="bulk")
    done = console.form("/console/a/bulk", "alice", **fields, reason="drop them")
    assert "3 done" in done.text
    statuses = {r.request_id: r.status for r in console.pq.list(status=[], limit=10)}
    assert statuses == {"b-0": "FAILED", "b-1": "FAILED", "b-2": "FAILED"} | {
        "b-late": "QUEUED",
        "other": "QUEUED",
    }
    assert console.pq.show("b-1").events[-1].fields["operator"] == "alice"

    again = console.form(
        "/console/a/bulk-preview", "alice", action="retry", status="QUEUED", actor="bulk"
    )
    fields = _fields(again.text)
    console.pq.cancel("b-late", reason="by hand", operator="bob")  # leaves the set
    changed = console.form("/console/a/bulk", "alice", **fields)
    assert "changed since you confirmed" in changed.text
    assert re.search(r'id="bulk-count">0<', changed.text)
    assert console.pq.show("b-late").events[-1].fields["operator"] == "bob"
    refused = console.form("/console/a/bulk-preview", "audrey", action="cancel", status="QUEUED")
    assert refused.status_code == 403


def test_counters_and_the_backlog_history_come_from_the_log(console: Console) -> None:
    """Attempts by outcome and the backlog's past are kept by the projection: the timeline
    starts at 0 an hour ago and ends at today's backlog; /metrics counts the attempts."""
    pq, vendor = console.pq, console.pq.parts.vendor
    assert isinstance(vendor, FakeVendor)
    for n in range(4):
        _record(pq, f"t-{n}")
    vendor.script(Transient("http", "HTTP 503", 503))
    pq.attempt("t-0")
    pq.attempt("t-1")
    line = pq.timeline(3600, 60)
    assert line.samples[0].backlog == 0
    assert line.samples[-1].backlog == 3  # t-1 was accepted: SUBMITTED, no longer waiting
    text = console.call("GET", "/metrics", "audrey").text
    assert 'proofqueue_attempts_total{outcome="transient"} 1' in text
    assert 'proofqueue_attempts_total{outcome="accepted"} 1' in text
    assert 'proofqueue_intents{status="SUBMITTED"} 1' in text
    breaker = console.call("GET", "/console/p/breaker?minutes=15", "audrey")
    assert breaker.status_code == 200
    assert 'id="timeline"' in breaker.text
    assert "backlog peaked at 3" in breaker.text  # 5-second buckets: t-1 left in the same
