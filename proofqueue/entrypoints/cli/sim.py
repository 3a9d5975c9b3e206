"""``proofqueue vendor-sim``: run the fault-injecting vendor simulator in the foreground."""

from __future__ import annotations

import re

import click
from pydantic import ValidationError

from proofqueue.entrypoints.cli.app import errors, main
from proofqueue.entrypoints.extras import need

_RATE = click.FloatRange(0.0, 1.0)
_SECONDS = click.FloatRange(min=0.0)
# A SimConfig field that is not named like its flag.
_FLAG_OF = {"offerings": "--offering"}


def _windows(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[float, float], ...]:
    """Each ``START:END`` in seconds from the simulator's start."""
    windows = []
    for value in values:
        start, sep, end = value.partition(":")
        try:
            window = (float(start), float(end))
        except ValueError:
            window = None
        if not sep or window is None or not 0 <= window[0] < window[1]:
            msg = f"{value!r} is not START:END with 0 <= START < END (seconds)"
            raise click.BadParameter(msg, ctx, param)
        windows.append(window)
    return tuple(windows)


@click.command("vendor-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    default=8099,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--api-key",
    envvar="PROOFQUEUE_VENDOR_API_KEY",
    show_envvar=True,
    help="The x-api-key callers must send. Unset: any key is accepted.",
)
@click.option(
    "--fail-before",
    type=_RATE,
    metavar="RATE",
    default=0.0,
    help="RATE of calls answered 500, nothing done.",
)
@click.option(
    "--fail-after",
    type=_RATE,
    metavar="RATE",
    default=0.0,
    help="RATE of creates answered 500 after the job was created (the ambiguous case).",
)
@click.option(
    "--timeout-rate",
    type=_RATE,
    metavar="RATE",
    default=0.0,
    help="RATE of calls that hang before answering.",
)
@click.option(
    "--hang-seconds",
    type=_SECONDS,
    metavar="S",
    default=30.0,
    show_default=True,
    help="How long a timed-out call hangs, in seconds.",
)
@click.option(
    "--reset-rate",
    type=_RATE,
    metavar="RATE",
    default=0.0,
    help="RATE of calls whose connection is dropped mid-answer (a create: job made half the time).",
)
@click.option(
    "--slow-rate", type=_RATE, metavar="RATE", default=0.0, help="RATE of calls answered late."
)
@click.option(
    "--slow-seconds", type=_SECONDS, metavar="S", default=0.0, help="How late a slow call answers."
)
@click.option(
    "--rate-limit", type=_RATE, metavar="RATE", default=0.0, help="RATE of calls answered 429."
)
@click.option(
    "--retry-after",
    type=_SECONDS,
    metavar="S",
    default=1.0,
    show_default=True,
    help="Retry-After seconds sent with a 429.",
)
@click.option(
    "--outage",
    metavar="START:END",
    callback=_windows,
    multiple=True,
    help="START:END seconds from start during which every call fails with 500. Repeatable.",
)
@click.option(
    "--complete-after",
    type=_SECONDS,
    metavar="S",
    default=2.0,
    show_default=True,
    help="Seconds from creation until a job is COMPLETED (or REJECTED/EXPIRED).",
)
@click.option(
    "--reject-rate", type=_RATE, metavar="RATE", default=0.0, help="RATE of jobs that end REJECTED."
)
@click.option(
    "--expire-rate", type=_RATE, metavar="RATE", default=0.0, help="RATE of jobs that end EXPIRED."
)
@click.option(
    "--no-idempotency-key",
    is_flag=True,
    help="Ignore the Idempotency-Key header: every create makes a new job.",
)
@click.option(
    "--no-lookup", is_flag=True, help="Answer the clientRequestId lookup with 404, as if absent."
)
@click.option(
    "--offering",
    "offerings",
    metavar="P/O",
    multiple=True,
    help="A provider/offering sold; others get 404. Repeatable. None given: any is sold.",
)
@click.option(
    "--redirect-after",
    type=_RATE,
    metavar="RATE",
    default=0.0,
    help="RATE of creates answered 303 (Location: the job) after the job was made.",
)
@click.option(
    "--bad-job-id",
    type=_RATE,
    metavar="RATE",
    default=0.0,
    help="RATE of creates answered, after the job was made, with a 100 KB job id or one"
    " holding line breaks.",
)
@click.option(
    "--drip-rate",
    type=_RATE,
    metavar="RATE",
    default=0.0,
    help="RATE of calls whose answer never finishes: a byte every 0.1 s for --hang-seconds.",
)
@click.option(
    "--oversized-rate",
    type=_RATE,
    metavar="RATE",
    default=0.0,
    help="RATE of calls answered with a body past any client's cap (3 MiB of padding).",
)
@click.option(
    "--no-deliverable-rate",
    type=_RATE,
    metavar="RATE",
    default=0.0,
    help="RATE of reads of a COMPLETED job answered without its deliverable.",
)
@click.option(
    "--seed", type=int, metavar="N", default=None, help="Seed for reproducible fault draws."
)
def vendor_sim(**options: object) -> None:
    """Run a fault-injecting ACP-shaped vendor until SIGINT or SIGTERM.

    Every flag can be changed at run time: POST /_sim/faults with a JSON object of the same
    names (underscores for dashes). GET /_sim/stats counts outcomes, jobs and duplicates.
    """
    with errors():
        need("server", "uvicorn", "starlette")
    from proofqueue.testing.simulator import SimConfig, serve

    options["api_key"] = options["api_key"] or None
    try:
        config = SimConfig.model_validate(options)
    except ValidationError as exc:
        raise click.UsageError(_usage_message(exc)) from None
    try:
        serve(config, announce=lambda url: click.echo(f"vendor simulator listening on {url}"))
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
        ) from None


def _flag(field: str) -> str:
    return _FLAG_OF.get(field, "--" + field.replace("_", "-"))


def _usage_message(exc: ValidationError) -> str:
    """The first problem, in terms of the flags the user typed."""
    error = exc.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["loc"]:
        return f"{_flag(str(error['loc'][0]))}: {message}"
    from proofqueue.testing.simulator import SimConfig

    names = "|".join(sorted(SimConfig.model_fields, key=len, reverse=True))
    return re.sub(rf"\b({names})\b", lambda m: _flag(m.group(1)), message)


main.add_command(vendor_sim, name="vendor-sim")
