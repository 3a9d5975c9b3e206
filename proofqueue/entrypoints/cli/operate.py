"""Commands of an operator: health, retry, cancel (one or in bulk), vendor hold and release,
workers."""

from __future__ import annotations

from collections.abc import Callable

import click

from proofqueue import BulkReport
from proofqueue.entrypoints.cli.app import (
    EXIT_BAD_INPUT,
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
    damaged: list[tuple[str, int | None]] = [(item.intent, item.event) for item in view.damaged]
    hurt = view.breaker_damaged
    if hurt and not any(intent.startswith("breaker of") for intent, _ in damaged):
        damaged.insert(0, (f"breaker of {view.vendor}", hurt.event))
    name_damaged(damaged)


def _statuses(value: str | None) -> list[str]:
    return [s for s in (value or "").split(",") if s.strip()]


bulk_options = [
    click.option("--all", "all_", is_flag=True, help="Act on every intent the filter matches."),
    click.option("--status", help="With --all: comma-separated statuses (e.g. FAILED)."),
    click.option("--target", help="With --all: only this target."),
    click.option("--older-than", type=float, metavar="SECONDS", help="With --all: queued before."),
    click.option("--dry-run", is_flag=True, help="With --all: only count what would be acted on."),
]


def with_bulk_options(fn: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(bulk_options):
        fn = option(fn)
    return fn


def _one_or_all(request_id: str | None, all_: bool) -> None:
    if (request_id is None) == (not all_):
        fail("name one request id, or pass --all with a --status filter", EXIT_BAD_INPUT)


def _print_bulk(report: BulkReport, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "matched": report.matched,
                "acted": len(report.acted),
                "refused": [{"request_id": r, "why": why} for r, why in report.refused],
                "dry_run": report.dry_run,
            }
        )
        return
    for request_id, why in report.refused:
        out.print(f"refused {request_id}: {why}", markup=False)
    if report.dry_run:
        out.print(f"{report.matched} intents would be {verb} (dry run: nothing written)")
    else:
        out.print(f"{verb} {len(report.acted)} of {report.matched} intents")


@main.command()
@click.argument("request_id", required=False)
@with_bulk_options
@operator_option
@json_option
def retry(
    request_id: str | None,
    all_: bool,
    status: str | None,
    target: str | None,
    older_than: float | None,
    dry_run: bool,
    operator: str | None,
    as_json: bool,
) -> None:
    """Attempt now, re-arming a spent budget; a FAILED intent is reopened when the vendor
    holds no job for it (looked up first when an attempt may have reached it)."""
    _one_or_all(request_id, all_)
    with opened() as pq:
        if request_id is not None:
            print_receipt(pq.retry(request_id, operator=operator), as_json)
            return
        report = pq.retry_all(
            status=_statuses(status),
            target=target,
            older_than=older_than,
            dry_run=dry_run,
            operator=operator,
        )
    _print_bulk(report, "retried", as_json)


@main.command()
@click.argument("request_id", required=False)
@click.option("--reason", required=True, help="Why (recorded in the trail).")
@with_bulk_options
@operator_option
@json_option
def cancel(
    request_id: str | None,
    reason: str,
    all_: bool,
    status: str | None,
    target: str | None,
    older_than: float | None,
    dry_run: bool,
    operator: str | None,
    as_json: bool,
) -> None:
    """Fail an intent the vendor holds no job for (looked up first when an attempt may have
    reached it)."""
    _one_or_all(request_id, all_)
    with opened() as pq:
        if request_id is not None:
            print_receipt(pq.cancel(request_id, reason=reason, operator=operator), as_json)
            return
        report = pq.cancel_all(
            reason=reason,
            status=_statuses(status),
            target=target,
            older_than=older_than,
            dry_run=dry_run,
            operator=operator,
        )
    _print_bulk(report, "cancelled", as_json)


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
        held = pq.health().held
        click.echo(f"vendor held: {held.model_dump(mode='json') if held else None}")


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
