"""The HTTP operator API, in process (httpx.ASGITransport) on both stores, and once for real."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from proofqueue import ProofQueue, Settings
from proofqueue.entrypoints.http_api import create_app
from tests.e2e.procs import free_port, wait_for


@pytest.fixture
def pq(store: str) -> Iterator[ProofQueue]:
    with ProofQueue(Settings(store=store)) as queue:
        yield queue


def call(pq: ProofQueue, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(pq))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


ORDER = {
    "request_id": "order-1",
    "actor": "agent-7",
    "target": "0xabc/logo",
    "params": {"brief": "fox"},
}


def test_submitting_over_http_records_once_and_answers_the_receipt(pq: ProofQueue) -> None:
    """POST /intents answers the receipt; the same body again answers the same receipt."""
    first = call(pq, "POST", "/intents", json=ORDER)
    assert first.status_code == 200
    assert first.json()["status"] == "QUEUED"
    assert set(first.json()) >= {
        "request_id",
        "actor",
        "target",
        "status",
        "attempts",
        "job_id",
        "deliverable_id",
        "queued_at",
        "settled_at",
        "proof",
    }
    again = call(pq, "POST", "/intents", json=ORDER)
    assert again.json() == first.json()
    assert pq.verify().events == 1


def test_bad_input_and_conflicts_answer_clear_errors_and_write_nothing(pq: ProofQueue) -> None:
    """400 names the field, 409 names the key, 404 names the unknown id; nothing is written."""
    call(pq, "POST", "/intents", json=ORDER)
    bad = call(pq, "POST", "/intents", json={**ORDER, "request_id": "has space"})
    assert bad.status_code == 400
    assert "request_id" in bad.json()["error"]
    not_json = call(pq, "POST", "/intents", content=b"[1, 2")
    assert not_json.status_code == 400
    conflict = call(pq, "POST", "/intents", json={**ORDER, "params": {"brief": "cat"}})
    assert conflict.status_code == 409
    assert "order-1" in conflict.json()["error"]
    assert call(pq, "GET", "/intents/nope").status_code == 404
    assert pq.verify().events == 1


def test_operators_list_show_retry_and_cancel_over_http(pq: ProofQueue) -> None:
    """The list, the trail, a retry and a cancel with the operator's name, the health view."""
    call(pq, "POST", "/intents", json=ORDER)
    rows = call(pq, "GET", "/intents", params={"status": "QUEUED"}).json()
    assert [r["request_id"] for r in rows] == ["order-1"]
    retried = call(pq, "POST", "/intents/order-1/retry", json={"operator": "alice"})
    assert retried.json()["status"] == "RETRYING"
    cancelled = call(
        pq, "POST", "/intents/order-1/cancel", json={"reason": "duplicate order", "operator": "bob"}
    )
    assert cancelled.json()["status"] == "FAILED"
    trail = call(pq, "GET", "/intents/order-1").json()
    assert [e["type"] for e in trail["events"]] == ["Queued", "RetryScheduled", "Failed"]
    assert trail["events"][1]["fields"]["operator"] == "alice"
    assert trail["events"][2]["fields"]["operator"] == "bob"
    again = call(pq, "POST", "/intents/order-1/cancel", json={"reason": "x"})
    assert again.status_code == 409
    assert call(pq, "GET", "/health").json()["state"] == "OK"
    assert call(pq, "GET", "/verify").json()["ok"] is True
    assert call(pq, "GET", "/intents", params={"limit": "many"}).status_code == 400


def test_the_real_server_answers_over_loopback(sqlite_store: str, tmp_path: Path) -> None:
    """`proofqueue serve` listens on loopback and stops on SIGTERM."""
    port = free_port()
    env = {**os.environ, "PROOFQUEUE_STORE": sqlite_store}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "proofqueue", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, 20, "the API to listen")
        answer = httpx.post(f"{url}/intents", json=ORDER, timeout=10)
        assert answer.json()["status"] == "QUEUED"
        assert httpx.get(f"{url}/intents/order-1/receipt", timeout=10).json() == answer.json()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        log.close()
