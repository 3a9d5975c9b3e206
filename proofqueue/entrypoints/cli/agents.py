"""``proofqueue mcp``: the agents' tools over the Model Context Protocol (stdio)."""

from __future__ import annotations

import logging
import signal
import sys

import click

from proofqueue.entrypoints.cli.app import errors, main, opened
from proofqueue.entrypoints.extras import need


@main.command()
@click.option(
    "--actor",
    required=True,
    help="Who the agent is: the actor recorded for every intent it submits.",
)
@click.option("--with-worker", is_flag=True, help="Also run the process manager in this process.")
def mcp(actor: str, with_worker: bool) -> None:
    """Serve the MCP tools (submit_intent, get_receipt, verify_receipt, vendor_health,
    list_intents) over stdio until the client closes stdin. Settings come from the
    PROOFQUEUE_* environment as for every command; `serve` offers the same tools at /mcp."""
    with errors():
        need("mcp", "mcp")
        from proofqueue.entrypoints.mcp.stdio import local_caller, run_stdio

        caller = local_caller(actor)
    # stdout carries the protocol: warnings and errors go to stderr, one line each.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    # stdin is read by a thread that nothing can interrupt, so a graceful stop would wait for
    # the client's next line: SIGINT ends the process at once, as SIGTERM does. (An attempt in
    # flight is then taken over by a worker once its lease runs out, as after a crash.) The
    # orderly end is the client closing stdin.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    with opened() as pq:
        if with_worker:
            with pq.worker():
                run_stdio(pq, caller)
        else:
            run_stdio(pq, caller)
