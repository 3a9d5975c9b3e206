"""How results are printed: JSON for machines, rich tables for people."""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from proofqueue import Health, IntentRow, Trail, WorkerRow
from proofqueue.domain.receipt import Receipt, receipt_json

out = Console(highlight=False, soft_wrap=True)


def print_json(value: object) -> None:
    """``value`` as indented JSON; models as their ``model_dump(mode="json")``."""
    click.echo(json.dumps(value, indent=2, default=json_default, ensure_ascii=False))


def json_default(value: object) -> object:
    """For ``json.dumps``: a model as its JSON form, anything else as its text."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def receipt_document(receipt: Receipt) -> dict[str, Any]:
    """The receipt as printed: ``tlog_proof`` is null until a checkpoint covers it."""
    document = receipt_json(receipt)
    document.setdefault("tlog_proof", None)
    return document


def print_receipt(receipt: Receipt, as_json: bool) -> None:
    if as_json:
        print_json(receipt_document(receipt))
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    for key, value in receipt_document(receipt).items():
        if key == "tlog_proof" and value is not None:
            value = f"c2sp.org/tlog-proof@v1, {value.split(chr(10))[1]} (see --json)"
        table.add_row(f"[bold]{key}[/]", "-" if value is None else str(value))
    out.print(table)


def print_trail(trail: Trail) -> None:
    out.print(f"[bold]{trail.request_id}[/]  {trail.status}")
    for event in trail.events:
        out.print(
            f"[bold]{event.seq:>3}  {event.type:<15}[/] {event.at.isoformat()}"
            f"  [dim]hash {event.hash}[/]"
        )
        for key, value in event.fields.items():
            if value is not None:
                shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                out.print(f"       {key:<15} {shown}", markup=False)


def print_rows(rows: list[IntentRow]) -> None:
    table = Table("request_id", "status", "actor", "target", "tries", "age", "next", "last error")
    for row in rows:
        table.add_row(
            row.request_id,
            row.status,
            row.actor,
            row.target,
            str(row.attempts),
            f"{row.age_s:.0f}s",
            row.next_attempt_at.isoformat()[11:19] if row.next_attempt_at else "-",
            (row.last_error or "")[:60],
        )
    out.print(table)


def print_workers(rows: list[WorkerRow]) -> None:
    table = Table("worker", "host", "pid", "started", "last seen", "alive", "in flight")
    for r in rows:
        table.add_row(
            r.worker,
            r.host,
            str(r.pid),
            r.started_at.isoformat(),
            r.last_seen_at.isoformat(),
            "yes" if r.alive else "no",
            str(r.in_flight),
            style=None if r.alive else "dim",
        )
    out.print(table)


def print_health(view: Health) -> None:
    colour = {"OK": "green", "DEGRADED": "red", "RECOVERING": "yellow"}.get(view.state, "")
    since = view.since.isoformat() if view.since else "start"
    out.print(f"breaker  [bold {colour}]{view.state}[/] since {since}")
    if view.held:
        held = view.held
        out.print(
            f"held     by {held.by} since {held.since.isoformat()}: {held.reason}", markup=False
        )
    out.print(
        f"window   failure ratio {view.failure_ratio:.2f} over {view.calls_in_window}"
        f" calls ({view.window_s:g}s)"
    )
    oldest = view.oldest_queued_age_s
    out.print(f"backlog  {view.backlog} open" + (f", oldest {oldest:.0f}s" if oldest else ""))
    if view.transitions:
        table = Table("at", "from", "to", "reason")
        for t in view.transitions:
            table.add_row(t.at.isoformat(), t.from_, t.to, t.reason)
        out.print(table)
