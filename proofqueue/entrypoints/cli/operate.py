"""Commands of an operator: health, retry, cancel; and the long-running processes:
worker, serve, demo; and key."""

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
    json_option,
    main,
    name_damaged,
    opened,
    operator_option,
)
from proofqueue.entrypoints.cli.render import (
    out,
    print_health,
    print_json,
    print_receipt,
    print_workers,
)
from proofqueue.entrypoints.extras import need


@main.command()
@json_option
def health(as_json: bool) -> None:
    """The breaker health view: state, window, backlog, last transitions."""
    with opened() as pq:
        view = pq.health()
    if as_json:
        print_json(view)
    else:
        print_health(view)
    damaged = list(view["damaged"])
    hurt = view["breaker_damaged"]
    if hurt and not any(str(item["intent"]).startswith("breaker of") for item in damaged):
        damaged.insert(0, {"intent": f"breaker of {view['vendor']}", "event": hurt["event"]})
    name_damaged(damaged)


@main.command()
@click.argument("request_id")
@operator_option
@json_option
def retry(request_id: str, operator: str | None, as_json: bool) -> None:
    """Attempt now, re-arming a spent retry budget."""
    with opened() as pq:
        found = pq.retry(request_id, operator=operator)
    print_receipt(found, as_json)


@main.command()
@click.argument("request_id")
@click.option("--reason", required=True, help="Why (recorded in the trail).")
@operator_option
@json_option
def cancel(request_id: str, reason: str, operator: str | None, as_json: bool) -> None:
    """Fail an intent the vendor holds no job for."""
    with opened() as pq:
        found = pq.cancel(request_id, reason=reason, operator=operator)
    print_receipt(found, as_json)


@main.group()
def vendor() -> None:
    """Operator hold and release of the vendor (PROOFQUEUE_VENDOR_URL names it)."""


@vendor.command()
@click.option("--reason", required=True, help="Why (recorded in the breaker's log).")
@operator_option
def hold(reason: str, operator: str | None) -> None:
    """Stop every call to the vendor, in every process, until released."""
    with opened() as pq:
        pq.hold_vendor(reason=reason, operator=operator)
        click.echo(f"vendor held: {pq.health()['held']}")


@vendor.command()
@operator_option
def release(operator: str | None) -> None:
    """End the hold: calls to the vendor resume."""
    with opened() as pq:
        pq.release_vendor(operator=operator)
    click.echo("vendor released")


@main.command()
@json_option
def workers(as_json: bool) -> None:
    """The workers on this store: alive while their last heartbeat is younger than the lease."""
    with opened() as pq:
        rows = pq.workers()
    if as_json:
        print_json(rows)
    else:
        print_workers(rows)


# -- processes ------------------------------------------------------------------------------


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
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
        need("server", "uvicorn", "starlette")
    import uvicorn

    from proofqueue.entrypoints.http_access import is_loopback
    from proofqueue.entrypoints.http_api import close_app, create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    loopback = is_loopback(host)
    if insecure_local and not loopback:
        fail(f"--insecure-local serves loopback only, not {host}", EXIT_BAD_INPUT)
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
        # uvicorn handles SIGTERM/SIGINT while it runs, then raises the signal again once it
        # has shut down; a quiet handler makes that a clean exit.
        _on_signals(lambda: None)
        try:
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
