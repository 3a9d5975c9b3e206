"""Serving the simulator with uvicorn: ``running_simulator`` (a background thread on loopback,
for tests) and ``serve`` (the foreground server of ``proofqueue vendor-sim``)."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import httpx
import uvicorn

from .app import Simulator
from .config import SimConfig
from .faults import SimulatedReset


class _HideInjectedResets(logging.Filter):
    """Keeps uvicorn from logging a traceback for each connection the simulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedReset))


def _quiet_injected_resets() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideInjectedResets) for f in logger.filters):
        logger.addFilter(_HideInjectedResets())


class _Server(uvicorn.Server):
    """uvicorn, ending the simulator's hangs first so that shutdown does not wait for them."""

    def __init__(self, simulator: Simulator, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.simulator = simulator

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.simulator.close()
        super().handle_exit(sig, frame)


def _server(simulator: Simulator, **options: Any) -> _Server:
    config = uvicorn.Config(
        simulator.app,
        lifespan="off",
        http="h11",
        loop="asyncio",
        access_log=False,
        timeout_graceful_shutdown=2,
        **options,
    )
    _quiet_injected_resets()
    return _Server(simulator, config)


def _bind(host: str, port: int) -> tuple[socket.socket, str]:
    """A listening socket and the base URL that reaches it."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return sock, f"http://{shown}:{bound_port}"


def _wait_until_up(base_url: str, thread: threading.Thread, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise RuntimeError("vendor simulator stopped while starting")
            try:
                if client.get(f"{base_url}/_sim/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"vendor simulator did not answer at {base_url} within {timeout:g} s")


@contextlib.contextmanager
def running_simulator(
    config: SimConfig, *, clock: Callable[[], float] = time.monotonic
) -> Iterator[str]:
    """Serves the simulator from a background thread; yields its base URL; stops it on exit.

    ``config.port`` 0 picks a free port.
    """
    simulator = Simulator(config, clock=clock)
    sock, base_url = _bind(config.host, config.port)
    server = _server(simulator, log_config=None, log_level="warning")
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported by the caller's thread, not lost in this one
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"vendor-sim {base_url}", daemon=True)
    thread.start()
    try:
        try:
            _wait_until_up(base_url, thread)
        except RuntimeError as exc:
            if failure:
                raise RuntimeError(f"vendor simulator failed to start: {failure[0]!r}") from None
            raise exc from None
        yield base_url
    finally:
        simulator.close()
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        sock.close()


def serve(config: SimConfig, *, announce: Callable[[str], None] | None = None) -> None:
    """Serves the simulator in the foreground until SIGINT or SIGTERM.

    ``announce`` gets the base URL once the port is listening (port 0 picks a free one).
    """
    simulator = Simulator(config)
    sock, base_url = _bind(config.host, config.port)
    server = _server(simulator, log_level="warning")

    def stop(sig: int, frame: FrameType | None) -> None:
        """Stops the server, even before uvicorn has put in its own handlers.

        uvicorn also re-raises the signal that stopped it once it is done: it ends here.
        """
        simulator.close()
        server.should_exit = True

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, stop) for sig in handled}
    try:
        if announce is not None:
            announce(base_url)
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
