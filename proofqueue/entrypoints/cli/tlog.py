"""Commands of the transparency log: signing-key, checkpoint, verify-receipt, consistency,
verify-log.

``verify-receipt`` opens no store: it needs only the receipt and the log's verifier key.
``checkpoint`` and ``consistency`` exit 1 while no checkpoint is recorded yet.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from proofqueue.api import ProofQueue
from proofqueue.domain.errors import InvalidInput
from proofqueue.domain.note import NoteError
from proofqueue.domain.transparency_log import NoCheckpoint
from proofqueue.entrypoints.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_PROBLEM,
    errors,
    fail,
    json_option,
    main,
    opened,
)
from proofqueue.entrypoints.cli.render import out, print_json
from proofqueue.offline import ReceiptNotVerified, verify_receipt

key_option = click.option(
    "--key",
    "vkey",
    required=True,
    metavar="VKEY",
    help="The log's verifier key (<name>+<key id>+<base64>), or a file holding it.",
)


def _text_of(value: str, what: str) -> str:
    """``value`` itself, or the text of the file it names ("-": standard input)."""
    if value == "-":
        return sys.stdin.read()
    path = Path(value)
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(what, f"cannot read {value}: {exc}") from None
    return value


def _file(value: str, what: str) -> str:
    if value == "-":
        return sys.stdin.read()
    try:
        return Path(value).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(what, f"cannot read {value}: {exc}") from None


@main.command("signing-key")
@click.option("--origin", required=True, help="The log's name, e.g. example.com/proofqueue.")
@json_option
def signing_key(origin: str, as_json: bool) -> None:
    """Print a new Ed25519 signing key (for PROOFQUEUE_SIGNING_KEY) on the first line and
    its verifier key (to publish) on the second."""
    with errors():
        private, verifier = ProofQueue.new_signing_key(origin)
    if as_json:
        print_json({"origin": origin, "signing_key": private, "verifier_key": verifier})
    else:
        click.echo(private)
        click.echo(verifier)


@main.command()
@click.option("--sign", is_flag=True, help="Sign and record a checkpoint now (needs the key).")
def checkpoint(sign: bool) -> None:
    """Print the latest signed checkpoint (text/plain); exit 1 when there is none yet."""
    with opened() as pq:
        text = pq.sign_checkpoint() if sign else pq.checkpoint()
    if text is None:
        fail(
            "no checkpoint yet: a worker with PROOFQUEUE_SIGNING_KEY signs one once a receipt"
            " is final, or run `proofqueue checkpoint --sign`",
            EXIT_PROBLEM,
        )
    click.echo(text, nl=False)


@main.command("verify-receipt")
@click.argument("file")
@key_option
@json_option
def verify_receipt_command(file: str, vkey: str, as_json: bool) -> None:
    """Check a receipt JSON offline (no store): leaf, inclusion, checkpoint signature and
    origin. Exit 0, or 1 naming what failed. FILE may be - for standard input."""
    with errors():
        raw = _file(file, "FILE")
        key = _text_of(vkey, "key").strip()
        try:
            receipt = json.loads(raw)
        except ValueError as exc:
            raise InvalidInput("FILE", f"is not JSON ({exc})") from None
        if not isinstance(receipt, dict):
            raise InvalidInput("FILE", "is not a JSON object (a receipt)")
    try:
        verify_receipt(receipt, key)
    except ReceiptNotVerified as exc:
        if as_json:
            print_json({"ok": False, "check": exc.check, "detail": exc.detail})
            sys.exit(EXIT_PROBLEM)
        fail(f"receipt not verified: {exc}", EXIT_PROBLEM)
    index, size, origin = _where(receipt)
    if as_json:
        print_json({"ok": True, "index": index, "size": size, "origin": origin})
    else:
        out.print(
            f"receipt verified: {receipt.get('request_id')} ({receipt.get('status')}) is leaf"
            f" {index} of the log {origin} at tree size {size}",
            markup=False,
        )


def _where(receipt: dict[str, Any]) -> tuple[int, int, str]:
    head, _, note = str(receipt["tlog_proof"]).partition("\n\n")
    index = int(next(line for line in head.split("\n") if line.startswith("index "))[6:])
    origin, size, _ = note.split("\n", 2)
    return index, int(size), origin


@main.command()
@click.argument("old_size", type=int)
@json_option
def consistency(old_size: int, as_json: bool) -> None:
    """Print the RFC 6962 consistency proof from OLD_SIZE to the latest checkpoint."""
    with opened() as pq:
        try:
            found = pq.consistency(old_size)
        except NoCheckpoint as exc:
            fail(str(exc), EXIT_PROBLEM)
    if as_json:
        print_json(found)
    else:
        click.echo(f"old size {found['old_size']}")
        click.echo(f"new size {found['new_size']}")
        for digest in found["proof"]:
            click.echo(digest)
        click.echo()
        click.echo(found["checkpoint"], nl=False)


@main.command("verify-log")
@click.option(
    "--since", "since", required=True, metavar="CHECKPOINT_FILE", help="A checkpoint you kept."
)
@key_option
@json_option
def verify_log(since: str, vkey: str, as_json: bool) -> None:
    """Check that the log, rebuilt from its events, extends a checkpoint you kept, and that
    its own checkpoints agree; exit 1 naming what does not (truncated, restored, rewritten)."""
    with opened() as pq:
        held = _file(since, "--since")
        key = _text_of(vkey, "key").strip()
        try:
            report = pq.verify_log(held, key)
        except NoteError as exc:
            fail(str(exc), EXIT_BAD_INPUT)
    if as_json:
        print_json(report.as_json())
    else:
        for problem in report.problems:
            out.print(f"PROBLEM {problem}", markup=False)
        if report.ok:
            out.print(
                f"the log ({report.size} receipts) extends the checkpoint of size"
                f" {report.since_size}",
                markup=False,
            )
    if not report.ok:
        sys.exit(EXIT_PROBLEM)
