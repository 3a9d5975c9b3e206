"""The ``proofqueue`` command group: one ``proofqueue:`` line and an exit code for every
refusal, never a traceback.

Exit codes: 0 done; 1 a check found a problem (verify, replay --check, a damaged stored
event: ``show``/``receipt`` of its intent, and ``list``/``health``, which still print what
they can and name the damaged events in one line); 2 bad input or a refused request (one
line on stderr, nothing written); 3 unknown request_id.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from proofqueue.api import ProofQueue
from proofqueue.domain.errors import (
    ConfigurationError,
    IntentNotFound,
    InvalidInput,
    ProofQueueError,
    Refused,
    TrailDamaged,
)

EXIT_PROBLEM, EXIT_BAD_INPUT, EXIT_UNKNOWN = 1, 2, 3


def fail(message: str, code: int) -> NoReturn:
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
        # Library log lines (a damaged event skipped by the views, a breaker move) are for
        # the worker's log; a command's answer is its output and one stderr line at most.
        # (``worker``/``serve`` configure logging themselves.)
        if not logging.getLogger("proofqueue").handlers:
            logging.getLogger("proofqueue").addHandler(logging.NullHandler())
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            fail(f"{exc.format_message()} (see --help)", exc.exit_code)
        except click.Abort:
            fail("aborted", EXIT_PROBLEM)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # last resort: never a traceback to a user
            fail(f"unexpected error: {type(exc).__name__}: {exc}", EXIT_PROBLEM)
        sys.exit(code if isinstance(code, int) else 0)


@contextmanager
def errors() -> Iterator[None]:
    """Map the project's errors to one line on stderr and an exit code."""
    try:
        yield
    except IntentNotFound as exc:
        fail(str(exc), EXIT_UNKNOWN)
    except TrailDamaged as exc:
        fail(str(exc), EXIT_PROBLEM)
    except (InvalidInput, Refused, ConfigurationError) as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except ProofQueueError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


@contextmanager
def opened() -> Iterator[ProofQueue]:
    """The ProofQueue of the environment's settings, closed afterwards."""
    with errors():
        pq = ProofQueue.from_env()
        try:
            yield pq
        finally:
            pq.close()


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
operator_option = click.option("--operator", help="Who acts (default: the login name).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="proofqueue")
def main() -> None:
    """Predictable, provable purchases from an unstable vendor.

    Settings come from the environment: PROOFQUEUE_STORE (a SQLite file, default
    proofqueue.db, or a postgresql:// URL), PROOFQUEUE_VENDOR_URL, PROOFQUEUE_VENDOR_API_KEY,
    PROOFQUEUE_CIPHER_KEY.
    """


def name_damaged(found: list[dict[str, Any]]) -> None:
    """``list``/``health``: after their output, one line naming the damaged stored events
    the views skipped, and exit 1; nothing when there are none."""
    if not found:
        return
    most = 3
    shown = [f"{item['intent']!r} event {item['event']}" for item in found[:most]]
    more = f" and {len(found) - most} more" if len(found) > most else ""
    fail(
        f"damaged stored events skipped: {', '.join(shown)}{more}; run `proofqueue verify --all`",
        EXIT_PROBLEM,
    )
