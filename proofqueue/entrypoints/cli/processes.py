"""The long-running processes: ``worker``, ``serve`` and ``demo``; and ``key``."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

import click

from proofqueue.api import ProofQueue
from proofqueue.domain.errors import ConfigurationError
from proofqueue.entrypoints.cli.app import (
    EXIT_BAD_INPUT,
    errors,
    fail,
    main,
    opened,
)
from proofqueue.entrypoints.cli.render import (
    out,
)
from proofqueue.entrypoints.extras import need


def _log_setup() -> None:
    """INFO for proofqueue's own lines; the HTTP client's request lines stay out (one per
    call, and they would carry the vendor URL as configured)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _on_signals(handler: Callable[[], None]) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        handler()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


@main.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="Vendor calls in flight at once (default 8).",
)
def worker(concurrency: int | None) -> None:
    """Run the process manager until SIGTERM or SIGINT."""
    _log_setup()
    stop = threading.Event()
    _on_signals(stop.set)
    with opened() as pq:
        if pq.parts.manager is None:
            raise ConfigurationError(
                "the worker needs a vendor: set PROOFQUEUE_VENDOR_URL to the vendor's base URL"
            )
        click.echo(
            f"proofqueue worker {pq.parts.worker_name} on {pq.store_shown}",
            err=True,
        )
        pq.run_worker(stop, concurrency)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--with-worker", is_flag=True, help="Also run the process manager in this process.")
@click.option(
    "--allowed-host",
    "allowed_host",
    multiple=True,
    metavar="NAME",
    help="A name clients reach the server by (Host header); loopback names and --host are"
    " always allowed. Repeatable.",
)
@click.option(
    "--insecure-local",
    is_flag=True,
    help="Loopback only: requests without a token act as the local user, with every role.",
)
def serve(
    host: str, port: int, with_worker: bool, allowed_host: tuple[str, ...], insecure_local: bool
) -> None:
    """Serve the HTTP API (the CLI's use cases over JSON, behind access tokens) until SIGTERM
    or SIGINT. Refuses to start while no access token exists (`proofqueue token create`),
    unless --insecure-local on a loopback address."""
    with errors():
        need("server", "uvicorn", "starlette", "jinja2")
    import uvicorn

    from proofqueue.entrypoints.http import close_app, create_app
    from proofqueue.entrypoints.http.hosts import is_loopback

    _log_setup()
    loopback = is_loopback(host)
    if insecure_local and not loopback:
        fail(f"--insecure-local serves loopback only, not {host}", EXIT_BAD_INPUT)
    # SIGTERM/SIGINT from here on stop the server, also one still starting (uvicorn handles
    # them itself while it runs, then raises them again once it has shut down).
    stopping = threading.Event()
    servers: list[uvicorn.Server] = []

    def stop() -> None:
        stopping.set()
        for running in servers:
            running.should_exit = True

    _on_signals(stop)
    with opened() as pq:
        if not pq.has_tokens() and not insecure_local:
            if loopback:
                fail(
                    "no access token exists: create one with `proofqueue token create --name"
                    " NAME --role operator` (or pass --insecure-local to serve loopback"
                    " without tokens)",
                    EXIT_BAD_INPUT,
                )
            fail(
                f"refusing to serve {host} while no access token exists: create one with"
                " `proofqueue token create --name NAME --role operator`",
                EXIT_BAD_INPUT,
            )
        if with_worker and pq.parts.manager is None:
            raise ConfigurationError("--with-worker needs PROOFQUEUE_VENDOR_URL")
        mode = " WITHOUT TOKENS for local requests (--insecure-local)" if insecure_local else ""
        click.echo(f"proofqueue API on http://{host}:{port} ({pq.store_shown}){mode}", err=True)
        app = create_app(pq, host=host, allowed_host=allowed_host, insecure_local=insecure_local)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        servers.append(server)
        server.should_exit = stopping.is_set()
        try:
            if stopping.is_set():
                return
            if with_worker:
                with pq.worker():
                    server.run()
            else:
                server.run()
        finally:
            close_app(app)


@main.command()
def key() -> None:
    """Print a fresh cipher key for PROOFQUEUE_CIPHER_KEY."""
    click.echo(ProofQueue.new_cipher_key())


@main.command()
@click.option("--intents", type=click.IntRange(1, 5000), default=120, show_default=True)
@click.option(
    "--store",
    metavar="PATH",
    help="A new SQLite file for the demo (default: proofqueue-demo-<time>.db here).",
)
def demo(intents: int, store: str | None) -> None:
    """The outage scenario, end to end, on a new embedded store of its own."""
    with errors():
        need("server", "uvicorn", "starlette")
        from proofqueue.entrypoints.demo import run_demo

        sys.exit(run_demo(intents=intents, store=store, console=out))
