"""Commands of whoever runs the server: access tokens for the HTTP API.

proofqueue token create --name NAME --role agent|operator|auditor   prints the token once
proofqueue token list [--json]                                       never the token
proofqueue token revoke NAME                                         exit 3 when unknown
"""

from __future__ import annotations

import click
from rich.table import Table

from proofqueue.domain.access import Role, TokenNotFound
from proofqueue.entrypoints.cli.app import EXIT_UNKNOWN, fail, json_option, main, opened
from proofqueue.entrypoints.cli.render import out, print_json


@main.group()
def token() -> None:
    """Access tokens for the HTTP API (only their SHA-256 is stored)."""


@token.command()
@click.option("--name", required=True, help="1-64 of A-Z a-z 0-9 . _ - (the actor/operator).")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@json_option
def create(name: str, role: str, as_json: bool) -> None:
    """Create a token and print it, once: it cannot be shown again."""
    with opened() as pq:
        row, secret = pq.create_token(name, role)
    if as_json:
        print_json({**row, "token": secret})
        return
    click.echo(secret)
    click.echo(
        f"token for {row['name']} ({row['role']}): store it now, it is not shown again", err=True
    )


@token.command(name="list")
@json_option
def list_(as_json: bool) -> None:
    """Every token: name, role, when created, when revoked. Never the token itself."""
    with opened() as pq:
        rows = pq.list_tokens()
    if as_json:
        print_json(rows)
        return
    table = Table("name", "role", "created_at", "revoked_at")
    for row in rows:
        table.add_row(row["name"], row["role"], row["created_at"], row["revoked_at"] or "-")
    out.print(table)


@token.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke a token: requests carrying it are refused (401) from now on."""
    with opened() as pq:
        try:
            pq.revoke_token(name)
        except TokenNotFound as exc:
            fail(str(exc), EXIT_UNKNOWN)
    click.echo(f"revoked {name}", err=True)
