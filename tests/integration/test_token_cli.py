"""`proofqueue token create|list|revoke` through the real command, on both stores."""

from __future__ import annotations

import re
import subprocess
import sys

from proofqueue import ProofQueue, Settings
from tests.integration.helpers import Ran, assert_clean_refusal, cli_env


def run_cli(store: str, *args: str) -> Ran:
    """``python -m proofqueue ARGS``, as the installed ``proofqueue`` command runs."""
    done = subprocess.run(
        [sys.executable, "-m", "proofqueue", *args],
        env=cli_env(store),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Ran(tuple(args), done.returncode, done.stdout, done.stderr)


def test_token_create_prints_a_token_once_that_authenticates(store: str) -> None:
    """Exit 0; stdout is the token alone; it stands for the name and role given."""
    ran = run_cli(store, "token", "create", "--name", "agent-7", "--role", "agent")
    assert ran.code == 0, str(ran)
    token = ran.stdout.strip()
    assert re.fullmatch(r"pq_[A-Za-z0-9_-]{43}", token)
    assert "not shown again" in ran.stderr
    with ProofQueue(Settings(store=store)) as pq:
        found = pq.authenticate(token)
    assert found is not None
    assert (found.name, found.role.value) == ("agent-7", "agent")


def test_token_list_shows_names_roles_and_times_never_the_token(store: str) -> None:
    """`token list --json`: name, role, created_at, revoked_at; the token appears nowhere."""
    token = run_cli(store, "token", "create", "--name", "alice", "--role", "operator").stdout
    run_cli(store, "token", "create", "--name", "audrey", "--role", "auditor")
    listed = run_cli(store, "token", "list", "--json")
    assert listed.code == 0, str(listed)
    assert [(r["name"], r["role"]) for r in listed.json()] == [
        ("alice", "operator"),
        ("audrey", "auditor"),
    ]
    assert set(listed.json()[0]) == {"name", "role", "created_at", "revoked_at"}
    table = run_cli(store, "token", "list")
    assert "alice" in table.stdout
    assert token.strip() not in listed.output + table.output


def test_token_create_refuses_bad_names_roles_and_duplicates_with_exit_2(store: str) -> None:
    """A bad name, an unknown role or a name already used: exit 2, one line, nothing made."""
    run_cli(store, "token", "create", "--name", "alice", "--role", "operator")
    for name in ["", "has space", "x" * 65, "ünï", "a/b"]:
        ran = run_cli(store, "token", "create", "--name", name, "--role", "agent")
        assert_clean_refusal(ran, 2, "name")
    assert_clean_refusal(
        run_cli(store, "token", "create", "--name", "bob", "--role", "root"), 2, "root"
    )
    twice = run_cli(store, "token", "create", "--name", "alice", "--role", "agent")
    assert_clean_refusal(twice, 2, "alice")
    assert [r["name"] for r in run_cli(store, "token", "list", "--json").json()] == ["alice"]


def test_token_revoke_exits_0_then_3_and_the_name_is_not_reused(store: str) -> None:
    """Revoking an active token exits 0; an unknown or already revoked name exits 3."""
    token = run_cli(store, "token", "create", "--name", "alice", "--role", "operator").stdout
    revoked = run_cli(store, "token", "revoke", "alice")
    assert revoked.code == 0, str(revoked)
    with ProofQueue(Settings(store=store)) as pq:
        assert pq.authenticate(token.strip()) is None
    assert_clean_refusal(run_cli(store, "token", "revoke", "alice"), 3, "alice")
    assert_clean_refusal(run_cli(store, "token", "revoke", "nobody"), 3, "nobody")
    again = run_cli(store, "token", "create", "--name", "alice", "--role", "operator")
    assert_clean_refusal(again, 2, "alice")
    rows = run_cli(store, "token", "list", "--json").json()
    assert rows[0]["revoked_at"] is not None
