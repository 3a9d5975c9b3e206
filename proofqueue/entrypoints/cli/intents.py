"""Commands of an agent: submit, receipt, show, list."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from proofqueue.domain.errors import InvalidInput
from proofqueue.domain.intent import Status
from proofqueue.domain.receipt import Receipt
from proofqueue.entrypoints.cli.app import (
    EXIT_FAILED,
    EXIT_NOT_TERMINAL,
    errors,
    json_option,
    main,
    name_damaged,
    opened,
)
from proofqueue.entrypoints.cli.render import (
    out,
    print_json,
    print_receipt,
    print_rows,
    print_trail,
)


def _read_params(params_json: str | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if params_json is not None:
        text = params_json
        if params_json == "-":
            text = sys.stdin.read()
        elif params_json.startswith("@"):
            try:
                with open(params_json[1:], "rb") as handle:
                    text = handle.read().decode("utf-8")
            except OSError as exc:
                problem = f"cannot read {params_json[1:]!r}: {exc.strerror}"
                raise InvalidInput("params-json", problem) from None
            except UnicodeDecodeError:
                raise InvalidInput("params-json", f"{params_json[1:]!r} is not UTF-8") from None
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = f"not valid JSON: {exc.msg} at char {exc.pos}"
            raise InvalidInput("params-json", problem) from None
        except RecursionError:
            raise InvalidInput("params-json", "nested too deeply") from None
        except ValueError:  # e.g. an integer beyond Python's digit limit
            raise InvalidInput("params-json", "holds a number too large") from None
        if not isinstance(loaded, dict):
            raise InvalidInput("params-json", "must be a JSON object")
        params.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput("param", "each --param must look like KEY=VALUE")
        params[key] = value
    return params


@main.command()
@click.option("--request-id", required=True, help="Idempotency key: one intent per id, forever.")
@click.option("--actor", required=True, help="Who asks (an agent's role or id).")
@click.option("--target", required=True, help="What is bought: <provider>/<offering>.")
@click.option("--param", "pairs", multiple=True, metavar="K=V", help="A param (repeatable).")
@click.option(
    "--params-json", help="Params as a JSON object; '-' reads stdin, '@FILE' reads a file."
)
@click.option(
    "--wait",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds to wait for the intent to settle.",
)
@json_option
def submit(
    request_id: str,
    actor: str,
    target: str,
    pairs: tuple[str, ...],
    params_json: str | None,
    wait: float,
    as_json: bool,
) -> None:
    """Record an intent and buy it (or queue it while the vendor is degraded); print the receipt."""
    with errors():
        params = _read_params(params_json, pairs)
    with opened() as pq:
        receipt = pq.submit(request_id, actor=actor, target=target, params=params, wait=wait)
    print_receipt(receipt, as_json)
    exit_for(receipt, wait)


@main.command()
@click.argument("request_id")
@click.option(
    "--wait",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds to wait for the intent to become SETTLED or FAILED.",
)
@json_option
def receipt(request_id: str, wait: float, as_json: bool) -> None:
    """The public-safe receipt at the intent's current status."""
    with opened() as pq:
        found = pq.wait(request_id, wait) if wait else pq.receipt(request_id)
    print_receipt(found, as_json)
    exit_for(found, wait)


def exit_for(receipt: Receipt, wait: float) -> None:
    """After a wait (``--wait``): exit 4 if the intent FAILED, 5 if it is not terminal yet."""
    if not wait:
        return
    if receipt.status == Status.FAILED:
        sys.exit(EXIT_FAILED)
    if receipt.status != Status.SETTLED:
        sys.exit(EXIT_NOT_TERMINAL)


@main.command()
@click.argument("request_id")
@json_option
def show(request_id: str, as_json: bool) -> None:
    """The whole trail of an intent: seq, type, time, sanitized fields, hash."""
    with opened() as pq:
        trail = pq.show(request_id)
    if as_json:
        print_json(trail)
    else:
        print_trail(trail)


def _statuses(value: str | None) -> list[str]:
    return [s for s in (value or "").split(",") if s.strip()]


@main.command(name="list")
@click.option("--status", help="Comma-separated: QUEUED,RETRYING,SUBMITTED,SETTLED,FAILED.")
@click.option("--actor")
@click.option("--target")
@click.option("--older-than", type=float, metavar="SECONDS", help="Queued at least this long ago.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--offset", type=int, default=0, show_default=True)
@click.option(
    "--cursor",
    help="Page by key: 'start' for the first page, then the cursor printed on stderr"
    " ('next-cursor: C') after each page that has a next one.",
)
@json_option
def list_(
    status: str | None,
    actor: str | None,
    target: str | None,
    older_than: float | None,
    limit: int,
    offset: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """The operator list: queued and retrying first, with why and when next."""
    with opened() as pq:
        if cursor is None:
            rows = pq.list(
                status=_statuses(status),
                actor=actor,
                target=target,
                older_than=older_than,
                limit=limit,
                offset=offset,
            )
            following = None
        else:
            if offset:
                raise InvalidInput("offset", "cannot be combined with --cursor")
            rows, following = pq.page(
                status=_statuses(status),
                actor=actor,
                target=target,
                older_than=older_than,
                limit=limit,
                cursor=cursor,
            )
        counts = pq.counts()
        damaged = pq.damaged()
    if as_json:
        print_json(rows)
    else:
        print_rows(rows)
        out.print(" ".join(f"{k}={v}" for k, v in counts.items()))
    if following is not None:
        click.echo(f"next-cursor: {following}", err=True)
    name_damaged([(item.intent, item.event) for item in damaged])
