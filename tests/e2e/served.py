"""``proofqueue serve`` as a real process for end-to-end tests, and tokens made through the
CLI as an operator would."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.procs import CLI, cli_json, free_port, wait_for


def token(env: Mapping[str, str], name: str, role: str) -> str:
    """A new access token (``proofqueue token create --json``)."""
    made: str = cli_json(env, "token", "create", "--name", name, "--role", role)["token"]
    return made


@contextmanager
def serving(env: Mapping[str, str], log: Path, *flags: str) -> Iterator[str]:
    """``proofqueue serve`` on a free loopback port; yields its URL; SIGTERM at the end."""
    port = free_port()
    out = log.open("w")
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), *flags],
        env=dict(env),
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {log.read_text()}")
        try:
            return httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, 20, "the API to listen")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        finally:
            out.close()
        assert code == 0, log.read_text()
