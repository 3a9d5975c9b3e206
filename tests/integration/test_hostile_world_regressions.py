"""Observations of issue 18 not covered by a test elsewhere: a damaged store answered as JSON
over HTTP, list's offset and age refused in one line by the command, and an absurd
Retry-After from any vendor (not only the HTTP client, which clamps it) never crashing
``submit`` after its claim is saved."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from proofqueue import ProofQueue, Settings
from proofqueue.entrypoints.cli import main
from proofqueue.entrypoints.http import close_app, create_app
from proofqueue.ports import Transient
from proofqueue.testing.fakes import Clock, FakeVendor
from tests.integration.helpers import RawStore

ACTOR, TARGET, PARAMS = "agent-7", "0xabc/logo", {"brief": "fox"}


def get(pq: ProofQueue, path: str, token: str) -> httpx.Response:
    app = create_app(pq)

    async def one() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            return await c.get(path, headers={"Authorization": f"Bearer {token}"})

    try:
        return asyncio.run(one())
    finally:
        close_app(app)


def test_a_damaged_store_answers_verify_and_the_intent_as_json_over_http(
    sqlite_store: str,
) -> None:
    """One flipped stored event: /verify is {"ok": false, ...}, /intents/{id} a JSON error."""
    with ProofQueue(Settings(store=sqlite_store)) as pq:
        pq.submit("order-1", actor=ACTOR, target=TARGET, params=PARAMS)
        pq.retry("order-1", operator="ops")
        token = pq.create_token("audrey", "auditor")[1]
    RawStore(sqlite_store).replace_in_state("order-1", 2, '"operator":"ops"', '"operator":"opz"')

    with ProofQueue(Settings(store=sqlite_store)) as pq:
        verified = get(pq, "/verify", token)
        trail = get(pq, "/intents/order-1", token)
    assert verified.status_code == 200
    assert verified.json()["ok"] is False
    assert verified.json()["problems"][0]["request_id"] == "order-1"
    assert trail.headers["content-type"].startswith("application/json")
    assert "error" in trail.json()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--offset", "99999999999999999999"), "offset"),
        (("--older-than", "nan"), "older"),
        (("--older-than", "-1"), "older"),
    ],
)
def test_list_refuses_a_huge_offset_or_a_nonsense_age_in_one_line(
    tmp_path: Path, args: tuple[str, ...], field: str
) -> None:
    store = str(tmp_path / "queue.db")
    with ProofQueue(Settings(store=store)) as pq:
        pq.submit("order-1", actor=ACTOR, target=TARGET, params=PARAMS)
    result = CliRunner().invoke(main, ["list", *args], env={"PROOFQUEUE_STORE": store})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("proofqueue: ")
    assert field in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("retry_after", [1e12, float("inf"), 1e300])
def test_an_absurd_retry_after_from_any_vendor_never_crashes_submit(retry_after: float) -> None:
    """Clamped to the budget: the intent fails its budget at once (the vendor asks for a
    wait past its deadline) instead of submit raising OverflowError after the claim."""
    vendor = FakeVendor()
    vendor.creates.append(Transient("http", "rate limited", status=429, retry_after=retry_after))
    with ProofQueue(Settings(store=":memory:"), vendor=vendor, clock=Clock()) as pq:
        receipt = pq.submit("order-1", actor=ACTOR, target=TARGET, params=PARAMS)
        assert str(receipt.status) == "FAILED"
        assert "retry budget exhausted" in str(pq.list()[0].last_error)
