"""Real processes for end-to-end tests: the vendor simulator and workers, started through the
``proofqueue`` command exactly as a user would, and the CLI itself."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from proofqueue.entrypoints.cli import main

CLI = [sys.executable, "-m", "proofqueue"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(env: Mapping[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*CLI, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    if check and done.returncode != 0:
        raise AssertionError(f"proofqueue {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done


def cli_json(env: Mapping[str, str], *args: str) -> Any:
    return json.loads(cli(env, *args, "--json").stdout)


def cli_here(
    env: Mapping[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``proofqueue ARGS`` run in this process (click's runner, ``env`` over the environment):
    the same command, output and exit code as ``cli`` without a new interpreter's second or
    so of imports. For the reads a test repeats or polls (show, list, health); what a test
    proves of a process of its own (submit, worker, serve) goes through ``cli``."""
    result = CliRunner().invoke(main, list(args), env=dict(env))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"proofqueue {' '.join(args)} raised {result.exception!r}")
    if check and result.exit_code != 0:
        raise AssertionError(
            f"proofqueue {' '.join(args)} exited {result.exit_code}: {result.stderr}"
        )
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def cli_json_here(env: Mapping[str, str], *args: str) -> Any:
    """``cli_here`` with ``--json``, its output parsed."""
    return json.loads(cli_here(env, *args, "--json").stdout)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


@contextmanager
def vendor_sim(tmp: Path, *flags: str) -> Iterator[str]:
    """``proofqueue vendor-sim`` on a free loopback port; yields its URL."""
    port = free_port()
    log = (tmp / f"sim-{port}.log").open("w")
    proc = subprocess.Popen(
        [*CLI, "vendor-sim", "--port", str(port), *flags], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), 20, "the vendor simulator to listen")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_sim/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def sim_stats(url: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{url}/_sim/stats", timeout=5).json()
    return stats


def set_faults(url: str, **faults: Any) -> None:
    httpx.post(f"{url}/_sim/faults", json=faults, timeout=5).raise_for_status()


class Worker:
    """A ``proofqueue worker`` process that can be stopped gracefully or killed."""

    def __init__(
        self, env: Mapping[str, str], log: Path, *flags: str, prefix: Sequence[str] = ()
    ) -> None:
        """``prefix`` runs the worker under another command (``faketime -f +5m``)."""
        self.log = log.open("a")
        # A process group of its own: a prefix (faketime) does not pass signals on to the
        # worker it starts, so they go to the group, and nothing is left running after.
        self.proc = subprocess.Popen(
            [*prefix, *CLI, "worker", *flags],
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        try:
            self.proc.wait(10)
        finally:
            self.log.close()

    def stop(self) -> int:
        self._signal(signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        finally:
            self._signal(signal.SIGKILL)  # whatever of the group is still there
            self.log.close()
        return code

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
