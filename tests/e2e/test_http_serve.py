"""`proofqueue serve` as a real process on loopback: it refuses to start without tokens, and
60 submits waiting on a vendor that hangs leave `GET /health` answering within a second."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.procs import CLI, cli, free_port, sim_stats, vendor_sim
from tests.e2e.served import serving

ORDER = {"target": "0xabc/logo", "params": {"brief": "fox"}}


def _env(store: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROOFQUEUE_")}
    return {**env, "PROOFQUEUE_STORE": store, **extra}


def _refused(done: subprocess.CompletedProcess[str], *named: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("proofqueue: ")
    for name in named:
        assert name in lines[0]


def test_serve_refuses_a_non_loopback_address_while_no_token_exists(sqlite_store: str) -> None:
    """Binding 0.0.0.0 with no token: exit 2, one line; never listens."""
    env = _env(sqlite_store)
    done = cli(env, "serve", "--host", "0.0.0.0", "--port", str(free_port()), check=False)  # noqa: S104
    _refused(done, "no access token", "token create")
    insecure = cli(env, "serve", "--host", "0.0.0.0", "--insecure-local", check=False)  # noqa: S104
    _refused(insecure, "--insecure-local")


def test_serve_on_loopback_needs_a_token_unless_insecure_local(
    sqlite_store: str, tmp_path: Path
) -> None:
    """No token on loopback: exit 2 naming --insecure-local; with it the API answers."""
    env = _env(sqlite_store)
    _refused(cli(env, "serve", "--port", str(free_port()), check=False), "--insecure-local")
    with serving(env, tmp_path / "serve.log", "--insecure-local") as url:
        answer = httpx.post(
            f"{url}/intents", json={**ORDER, "request_id": "o-1", "actor": "me"}, timeout=10
        )
        assert answer.status_code == 201
        rebinding = httpx.get(f"{url}/health", headers={"Host": "evil.example"}, timeout=10)
        assert rebinding.status_code == 403


def test_the_real_server_answers_a_token_holder_over_loopback(
    sqlite_store: str, tmp_path: Path
) -> None:
    """A token made with the CLI works against `serve`; a revoked one is refused."""
    env = _env(sqlite_store)
    token = cli(env, "token", "create", "--name", "agent-7", "--role", "agent").stdout.strip()
    with serving(env, tmp_path / "serve.log") as url:
        auth = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(
            f"{url}/intents", json={**ORDER, "request_id": "o-1"}, headers=auth, timeout=10
        )
        assert answer.status_code == 201
        assert answer.json()["actor"] == "agent-7"
        receipt = httpx.get(f"{url}/intents/o-1/receipt", headers=auth, timeout=10)
        assert receipt.json() == answer.json()
        cli(env, "token", "revoke", "agent-7")
        assert httpx.get(f"{url}/health", headers=auth, timeout=10).status_code == 401


def test_sixty_waiting_submits_on_a_hanging_vendor_leave_health_answering(
    sqlite_store: str, tmp_path: Path
) -> None:
    """60 concurrent submits with wait=4 against a vendor that hangs every call; meanwhile
    `GET /health` answers within 1 s each time, and every submit answers by its bound."""
    with vendor_sim(tmp_path, "--timeout-rate", "1") as vendor:
        env = _env(
            sqlite_store,
            PROOFQUEUE_VENDOR_URL=vendor,
            PROOFQUEUE_READ_TIMEOUT_S="3",
        )
        token = cli(env, "token", "create", "--name", "agent-7", "--role", "agent").stdout.strip()
        auth = {"Authorization": f"Bearer {token}"}
        with serving(env, tmp_path / "serve.log") as url:

            async def scenario() -> tuple[list[httpx.Response], list[float], float]:
                limits = httpx.Limits(max_connections=100)
                async with httpx.AsyncClient(
                    base_url=url, headers=auth, timeout=30, limits=limits
                ) as client:
                    started = time.monotonic()
                    submits = [
                        asyncio.create_task(
                            client.post(
                                "/intents", json={**ORDER, "request_id": f"o-{n}", "wait": 4}
                            )
                        )
                        for n in range(60)
                    ]
                    lags: list[float] = []
                    await asyncio.sleep(0.5)
                    while not all(task.done() for task in submits):
                        before = time.monotonic()
                        health = await client.get("/health")
                        lags.append(time.monotonic() - before)
                        assert health.status_code == 200
                        await asyncio.sleep(0.2)
                    answers = await asyncio.gather(*submits)
                    return answers, lags, time.monotonic() - started

            answers, lags, took = asyncio.run(scenario())
        hung = sim_stats(vendor)["requests"].get("timeout", 0)
        assert hung >= 1  # the vendor was called, and hung
        assert len(lags) >= 5
        assert max(lags) < 1.0, lags
        assert took < 10, took
        assert [a.status_code for a in answers] == [201] * 60
        assert {a.json()["status"] for a in answers} <= {"QUEUED", "RETRYING"}


def test_sigterm_while_serve_is_starting_stops_it_cleanly(sqlite_store: str) -> None:
    """A SIGTERM as soon as serve says where it will listen (before the server runs): serve
    stops with exit 0 instead of ignoring it and serving on."""
    with subprocess.Popen(
        [*CLI, "serve", "--insecure-local", "--port", str(free_port())],
        env=_env(sqlite_store),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stderr is not None
            banner = proc.stderr.readline()
            assert "proofqueue API on" in banner, banner
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0, proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
