"""The ``proofqueue`` command: parse, call one ProofQueue method, print, map errors to exit codes.

Exit codes: 0 done; 1 a check found a problem (verify, replay --check); 2 bad input or a
refused request (one line on stderr, nothing written); 3 unknown request_id.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from proofqueue.adapters.sealing import new_key
from proofqueue.adapters.store import redact_store
from proofqueue.api import ProofQueue
from proofqueue.domain.errors import (
    ConfigurationError,
    IntentNotFound,
    InvalidInput,
    ProofQueueError,
    Refused,
    TrailDamaged,
)
from proofqueue.domain.receipt import Receipt
from proofqueue.entrypoints.cli_sim import vendor_sim

EXIT_PROBLEM, EXIT_BAD_INPUT, EXIT_UNKNOWN = 1, 2, 3

out = Console(highlight=False, soft_wrap=True)


def _fail(message: str, code: int) -> NoReturn:
    """One line on stderr, whatever the message holds."""
    line = " ".join(message.split("\n"))
    click.echo(f"proofqueue: {line}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Usage errors as one ``proofqueue:`` line and exit 2, like every other refusal."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            _fail(f"{exc.format_message()} (see --help)", exc.exit_code)
        except click.Abort:
            _fail("aborted", EXIT_PROBLEM)
        sys.exit(code if isinstance(code, int) else 0)


@contextmanager
def _errors() -> Iterator[None]:
    """Map the project's errors to one line on stderr and an exit code."""
    try:
        yield
    except IntentNotFound as exc:
        _fail(str(exc), EXIT_UNKNOWN)
    except TrailDamaged as exc:
        _fail(str(exc), EXIT_PROBLEM)
    except (InvalidInput, Refused, ConfigurationError) as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except ProofQueueError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)


def _open() -> ProofQueue:
    return ProofQueue.from_env()


@contextmanager
def _queue() -> Iterator[ProofQueue]:
    with _errors():
        pq = _open()
        try:
            yield pq
        finally:
            pq.close()


def _json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def _receipt_json(receipt: Receipt) -> dict[str, Any]:
    return json.loads(receipt.model_dump_json())  # type: ignore[no-any-return]


def _print_receipt(receipt: Receipt, as_json: bool) -> None:
    if as_json:
        _json(_receipt_json(receipt))
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    for key, value in _receipt_json(receipt).items():
        table.add_row(f"[bold]{key}[/]", "-" if value is None else str(value))
    out.print(table)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="proofqueue")
def main() -> None:
    """Predictable, provable purchases from an unstable vendor.

    Settings come from the environment: PROOFQUEUE_STORE (a SQLite file, default
    proofqueue.db, or a postgresql:// URL), PROOFQUEUE_VENDOR_URL, PROOFQUEUE_VENDOR_API_KEY,
    PROOFQUEUE_CIPHER_KEY.
    """


# -- submit ---------------------------------------------------------------------------------


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
    with _errors():
        params = _read_params(params_json, pairs)
    with _queue() as pq:
        receipt = pq.submit(request_id, actor=actor, target=target, params=params, wait=wait)
    _print_receipt(receipt, as_json)


# -- reads ----------------------------------------------------------------------------------


@main.command()
@click.argument("request_id")
@json_option
def receipt(request_id: str, as_json: bool) -> None:
    """The public-safe receipt at the intent's current status."""
    with _queue() as pq:
        found = pq.receipt(request_id)
    _print_receipt(found, as_json)


@main.command()
@click.argument("request_id")
@json_option
def show(request_id: str, as_json: bool) -> None:
    """The whole trail of an intent: seq, type, time, sanitized fields, hash."""
    with _queue() as pq:
        trail = pq.show(request_id)
    if as_json:
        _json(trail)
        return
    out.print(f"[bold]{trail['request_id']}[/]  {trail['status']}")
    for event in trail["events"]:
        out.print(
            f"[bold]{event['seq']:>3}  {event['type']:<15}[/] {event['at']}"
            f"  [dim]hash {event['hash']}[/]"
        )
        for key, value in event["fields"].items():
            if value is not None:
                shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                out.print(f"       {key:<15} {shown}", markup=False)


def _statuses(value: str | None) -> list[str]:
    return [s for s in (value or "").split(",") if s.strip()]


@main.command(name="list")
@click.option("--status", help="Comma-separated: QUEUED,RETRYING,SUBMITTED,SETTLED,FAILED.")
@click.option("--actor")
@click.option("--target")
@click.option("--older-than", type=float, metavar="SECONDS", help="Queued at least this long ago.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--offset", type=int, default=0, show_default=True)
@json_option
def list_(
    status: str | None,
    actor: str | None,
    target: str | None,
    older_than: float | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """The operator list: queued and retrying first, with why and when next."""
    with _queue() as pq:
        rows = pq.list(
            status=_statuses(status),
            actor=actor,
            target=target,
            older_than=older_than,
            limit=limit,
            offset=offset,
        )
        counts = pq.counts()
    if as_json:
        _json(rows)
        return
    _print_rows(rows)
    out.print(" ".join(f"{k}={v}" for k, v in counts.items()))


def _print_rows(rows: list[dict[str, Any]]) -> None:
    table = Table("request_id", "status", "actor", "target", "tries", "age", "next", "last error")
    for row in rows:
        table.add_row(
            row["request_id"],
            row["status"],
            row["actor"],
            row["target"],
            str(row["attempts"]),
            f"{row['age_s']:.0f}s",
            (row["next_attempt_at"] or "-")[11:19] if row["next_attempt_at"] else "-",
            (row["last_error"] or "")[:60],
        )
    out.print(table)


def _print_health(view: dict[str, Any]) -> None:
    colour = {"OK": "green", "DEGRADED": "red", "RECOVERING": "yellow"}.get(view["state"], "")
    out.print(f"breaker  [bold {colour}]{view['state']}[/] since {view['since'] or 'start'}")
    out.print(
        f"window   failure ratio {view['failure_ratio']:.2f} over {view['calls_in_window']}"
        f" calls ({view['window_s']:g}s)"
    )
    oldest = view["oldest_queued_age_s"]
    out.print(f"backlog  {view['backlog']} open" + (f", oldest {oldest:.0f}s" if oldest else ""))
    if view["transitions"]:
        table = Table("at", "from", "to", "reason")
        for t in view["transitions"]:
            table.add_row(t["at"], t["from"], t["to"], t["reason"])
        out.print(table)


@main.command()
@json_option
def health(as_json: bool) -> None:
    """The breaker health view: state, window, backlog, last transitions."""
    with _queue() as pq:
        view = pq.health()
    if as_json:
        _json(view)
    else:
        _print_health(view)


@main.command()
@click.argument("request_ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Check every chain in the log.")
@json_option
def verify(request_ids: tuple[str, ...], all_: bool, as_json: bool) -> None:
    """Recompute proof chains; exit 1 naming the first bad event of each broken one."""
    if not request_ids and not all_:
        _fail("verify: name request ids or pass --all", EXIT_BAD_INPUT)
    with _queue() as pq:
        report = pq.verify(() if all_ else request_ids)
    problems = [p.__dict__ for p in report.problems]
    if as_json:
        _json(
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
    with _queue() as pq:
        report = pq.replay(check=check, as_of=_parse_time(as_of))
    if report.as_of is not None:
        if as_json:
            _json(
                {
                    "as_of": report.as_of.isoformat(),
                    "intents": report.intents,
                    "health": report.health,
                }
            )
        else:
            out.print(f"[bold]as of {report.as_of.isoformat()}[/]")
            _print_rows(report.intents)
            _print_health(report.health)
    elif as_json:
        _json(
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


# -- operator actions -----------------------------------------------------------------------

operator_option = click.option("--operator", help="Who acts (default: the login name).")


@main.command()
@click.argument("request_id")
@operator_option
@json_option
def retry(request_id: str, operator: str | None, as_json: bool) -> None:
    """Attempt now, re-arming a spent retry budget."""
    with _queue() as pq:
        found = pq.retry(request_id, operator=operator)
    _print_receipt(found, as_json)


@main.command()
@click.argument("request_id")
@click.option("--reason", required=True, help="Why (recorded in the trail).")
@operator_option
@json_option
def cancel(request_id: str, reason: str, operator: str | None, as_json: bool) -> None:
    """Fail an intent the vendor holds no job for."""
    with _queue() as pq:
        found = pq.cancel(request_id, reason=reason, operator=operator)
    _print_receipt(found, as_json)


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
    with _queue() as pq:
        if pq.parts.manager is None:
            raise ConfigurationError(
                "the worker needs a vendor: set PROOFQUEUE_VENDOR_URL to the vendor's base URL"
            )
        click.echo(
            f"proofqueue worker {pq.parts.worker_name} on {redact_store(pq.settings.store)}",
            err=True,
        )
        pq.run_worker(stop, concurrency)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--with-worker", is_flag=True, help="Also run the process manager in this process.")
def serve(host: str, port: int, with_worker: bool) -> None:
    """Serve the HTTP operator API (the CLI's use cases over JSON) until SIGTERM or SIGINT."""
    import uvicorn

    from proofqueue.entrypoints.http_api import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with _queue() as pq:
        if with_worker and pq.parts.manager is None:
            raise ConfigurationError("--with-worker needs PROOFQUEUE_VENDOR_URL")
        click.echo(
            f"proofqueue API on http://{host}:{port} ({redact_store(pq.settings.store)})", err=True
        )
        server = uvicorn.Server(
            uvicorn.Config(create_app(pq), host=host, port=port, log_level="warning")
        )
        # uvicorn handles SIGTERM/SIGINT while it runs, then raises the signal again once it
        # has shut down; a quiet handler makes that a clean exit.
        _on_signals(lambda: None)
        if with_worker:
            with pq.worker():
                server.run()
        else:
            server.run()


@main.command()
def key() -> None:
    """Print a fresh cipher key for PROOFQUEUE_CIPHER_KEY."""
    click.echo(new_key())


main.add_command(vendor_sim, name="vendor-sim")


@main.command()
@click.option("--intents", type=click.IntRange(1, 5000), default=120, show_default=True)
@click.option("--fresh", is_flag=True, help="Start from an empty store (deletes the demo file).")
def demo(intents: int, fresh: bool) -> None:
    """The outage scenario, end to end, on the embedded store."""
    from proofqueue.entrypoints.demo import run_demo

    with _errors():
        sys.exit(run_demo(intents=intents, fresh=fresh, console=out))


if __name__ == "__main__":
    main()
