"""The ``proofqueue`` command group: one ``proofqueue:`` line and an exit code for every
refusal, never a traceback.

Exit codes: 0 done; 1 a check found a problem (verify, replay --check); 2 bad input or a
refused request (one line on stderr, nothing written); 3 unknown request_id; 4 the intent
FAILED (``submit --wait``, ``receipt --wait``); 5 not terminal within ``--wait``.
"""

from __future__ import annotations

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

EXIT_PROBLEM, EXIT_BAD_INPUT, EXIT_UNKNOWN, EXIT_FAILED, EXIT_NOT_TERMINAL = 1, 2, 3, 4, 5


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
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            fail(f"{exc.format_message()} (see --help)", exc.exit_code)
        except click.Abort:
            fail("aborted", EXIT_PROBLEM)
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
