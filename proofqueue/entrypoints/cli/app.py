"""The ``proofqueue`` command group: one ``proofqueue:`` line and an exit code for every
refusal, never a traceback.

Exit codes: 0 done; 1 a check found a problem (verify, replay --check, a damaged stored
event: ``show``/``receipt`` of its intent, and ``list``/``health``, which still print what
they can and name the damaged events in one line); 2 bad input or a refused request (one
line on stderr, nothing written); 3 unknown request_id; 4 the intent FAILED (``submit
--wait``, ``receipt --wait``); 5 not terminal within ``--wait``.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from eventsourcing.persistence import PersistenceError

from proofqueue.api import ProofQueue
from proofqueue.domain.errors import (
    ConfigurationError,
    IntentNotFound,
    InvalidInput,
    ProofQueueError,
    Refused,
    StoreDamaged,
    TrailDamaged,
)
from proofqueue.settings import Settings

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
            fail(_unexpected(exc), EXIT_PROBLEM)
        sys.exit(code if isinstance(code, int) else 0)


def _unexpected(exc: Exception) -> str:
    """One line for an error nothing else caught; the store's own errors (a damaged file,
    a lost server) say where to look."""
    text = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    if isinstance(exc, sqlite3.DatabaseError | PersistenceError):
        return (
            f"the store answered an error: {text} (a damaged store? `proofqueue verify --all`"
            " checks the log; `proofqueue views rebuild` rebuilds the views from it)"
        )
    return f"unexpected error: {text}"


@contextmanager
def errors() -> Iterator[None]:
    """Map the project's errors to one line on stderr and an exit code."""
    try:
        yield
    except IntentNotFound as exc:
        fail(str(exc), EXIT_UNKNOWN)
    except (TrailDamaged, StoreDamaged) as exc:
        fail(str(exc), EXIT_PROBLEM)
    except (InvalidInput, Refused, ConfigurationError) as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except ProofQueueError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


# The commands that may create the store: they record, or run what records. Every other
# command (show, receipt, list, health, verify, replay, retry, cancel, and any new one) opens
# an existing store only: on a missing one it says "no store at PATH" (exit 2; exit 3 for
# retry and cancel, below), creating nothing.
# (``create`` is ``token create``: a new deployment makes its tokens first; ``hold`` is
# ``vendor hold``: an operator may hold the vendor before any worker starts.)
CREATING_COMMANDS = frozenset({"submit", "worker", "serve", "mcp", "create", "hold"})
# Operator actions on one intent: on a store that does not exist there is no such intent,
# so they answer exit 3 (unknown request_id), still creating nothing. A bad store setting
# (a missing folder, a file that is not a store) stays exit 2 like everywhere else.
_NEED_INTENT = frozenset({"retry", "cancel"})
_NO_STORE = "no store at"  # how proofqueue.adapters.store begins every "no store here"


def _vendor_needed(ctx: click.Context | None) -> str | None:
    """Why the command cannot start without PROOFQUEUE_VENDOR_URL, or None. Checked before
    the store is opened, so that saying so leaves no new store behind."""
    name = ctx.command.name if ctx is not None else None
    if name == "worker":
        return "the worker needs a vendor: set PROOFQUEUE_VENDOR_URL to the vendor's base URL"
    if name in ("serve", "mcp") and ctx is not None and ctx.params.get("with_worker"):
        return "--with-worker needs PROOFQUEUE_VENDOR_URL"
    return None


@contextmanager
def opened() -> Iterator[ProofQueue]:
    """The ProofQueue of the environment's settings, closed afterwards.

    Configuration mistakes (unknown PROOFQUEUE_* variables, bad numbers or URLs, a store
    that cannot be one) are one ``proofqueue:`` line and exit 2 before anything is opened;
    only the commands in ``CREATING_COMMANDS`` may create a store."""
    ctx = click.get_current_context(silent=True)
    command = ctx.command.name if ctx is not None else None
    with errors():
        settings = Settings.from_env(create_store=command in CREATING_COMMANDS)
        vendor_needed = _vendor_needed(ctx)
        if vendor_needed and not settings.vendor_url:
            raise ConfigurationError(vendor_needed)
        try:
            pq = ProofQueue(settings)
        except ConfigurationError as exc:
            request_id = ctx.params.get("request_id") if ctx is not None else None
            if command in _NEED_INTENT and request_id and str(exc).startswith(_NO_STORE):
                fail(f"{IntentNotFound(request_id)} ({exc})", EXIT_UNKNOWN)
            raise
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


def name_damaged(found: list[tuple[str, int | None]]) -> None:
    """``list``/``health``: after their output, one line naming the damaged stored events
    the views skipped, and exit 1; nothing when there are none."""
    if not found:
        return
    most = 3
    shown = [f"{intent!r} event {event}" for intent, event in found[:most]]
    more = f" and {len(found) - most} more" if len(found) > most else ""
    fail(
        f"damaged stored events skipped: {', '.join(shown)}{more}; run `proofqueue verify --all`",
        EXIT_PROBLEM,
    )
