"""Commands of an auditor: verify, replay."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from proofqueue.domain.errors import InvalidInput
from proofqueue.entrypoints.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_PROBLEM,
    fail,
    json_option,
    main,
    opened,
)
from proofqueue.entrypoints.cli.render import out, print_health, print_json, print_rows


@main.command()
@click.argument("request_ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Check every chain in the log.")
@json_option
def verify(request_ids: tuple[str, ...], all_: bool, as_json: bool) -> None:
    """Recompute proof chains; exit 1 naming the first bad event of each broken one."""
    if not request_ids and not all_:
        fail("verify: name request ids or pass --all", EXIT_BAD_INPUT)
    with opened() as pq:
        report = pq.verify(() if all_ else request_ids)
    problems = [p.__dict__ for p in report.problems]
    if as_json:
        print_json(
            {
                "intents": report.intents,
                "events": report.events,
                "ok": report.ok,
                "problems": problems,
            }
        )
    else:
        for p in report.problems:
            out.print(f"BROKEN {p.request_id}: event {p.seq} ({p.type}): {p.problem}")
        verdict = "all chains verify" if report.ok else f"{len(problems)} broken"
        out.print(f"checked {report.intents} intents, {report.events} events: {verdict}")
    if not report.ok:
        sys.exit(EXIT_PROBLEM)


def _parse_time(value: str | None) -> datetime | None:
    """ISO 8601; a time without a zone is taken as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("as-of", f"{value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.command()
@click.option("--check", is_flag=True, help="Compare the rebuilt views with the live ones.")
@click.option("--as-of", "as_of", metavar="TIMESTAMP", help="ISO 8601: views as they stood then.")
@json_option
def replay(check: bool, as_of: str | None, as_json: bool) -> None:
    """Rebuild every view from the log alone, into a fresh store."""
    with opened() as pq:
        report = pq.replay(check=check, as_of=_parse_time(as_of))
    if report.as_of is not None:
        if as_json:
            print_json(report.as_of_json())
        else:
            out.print(f"[bold]as of {report.as_of.isoformat()}[/]")
            print_rows(report.intents)
            if report.health is not None:
                print_health(report.health)
    elif as_json:
        print_json(
            {
                "events": report.events,
                "seconds": round(report.seconds, 3),
                "differences": report.differences,
                "ok": not report.differences,
            }
        )
    else:
        for line in report.differences:
            out.print(f"DIFF {line}")
        rate = report.events / report.seconds if report.seconds else 0.0
        verdict = ""
        if check:
            verdict = (
                ": views match the log"
                if not report.differences
                else (f": {len(report.differences)} differences")
            )
        out.print(
            f"replayed {report.events} events in {report.seconds:.2f}s ({rate:,.0f}/s){verdict}"
        )
    if check and report.differences:
        sys.exit(EXIT_PROBLEM)


@main.group()
def views() -> None:
    """The live views (the operator list, health, the transparency tree) built from the log."""


@views.command("rebuild")
@json_option
def views_rebuild(as_json: bool) -> None:
    """Build every view from the log alone and put it in place of the live views, in one
    transaction. Safe while workers run: they read the old views until it commits, then
    catch up from the rebuilt position. Prints how the old views differed from the log and
    what the rebuild found about the log's order (which no rebuild can repair)."""
    with opened() as pq:
        report = pq.rebuild_views()
    if as_json:
        print_json(
            {
                "events": report.events,
                "seconds": round(report.seconds, 3),
                "position": report.position,
                "differences": report.differences,
                "findings": report.findings,
            }
        )
        return
    for line in report.differences:
        out.print(f"REPAIRED {line}", markup=False)
    for line in report.findings:
        out.print(f"FOUND {line}", markup=False)
    differed = (
        f"the old views differed in {len(report.differences)} rows"
        if report.differences
        else "the old views matched the log"
    )
    out.print(
        f"rebuilt the views from {report.events} events in {report.seconds:.2f}s; {differed}",
        markup=False,
    )
