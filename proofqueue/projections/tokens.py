"""The access tokens' table, next to the views in the same database (SQLite or PostgreSQL).

    pq_tokens   name (unique, kept after revoking), role, SHA-256 hex of the token,
                created_at, revoked_at (NULL while the token is active)

Only the hash is stored, never the token. The table is not built from the log: tokens are
credentials, not facts about intents, so replay neither needs nor rebuilds them. It is
created by the first ``token create``; reads on a store without it find no tokens.
"""

from __future__ import annotations

from typing import Any

from proofqueue.projections.store import ViewDB

SCHEMA = """CREATE TABLE IF NOT EXISTS pq_tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at DOUBLE PRECISION NOT NULL,
    revoked_at DOUBLE PRECISION)"""

_LOCK = 7270919


def has_table(db: ViewDB) -> bool:
    if db.dialect == "postgres":
        rows = db.query("SELECT to_regclass('pq_tokens') IS NOT NULL AS found")
    else:
        rows = db.query(
            "SELECT COUNT(*) > 0 AS found FROM sqlite_master WHERE type = 'table'"
            " AND name = 'pq_tokens'"
        )
    return bool(rows and rows[0]["found"])


def create_table(db: ViewDB) -> None:
    """Create the table once; DDL is skipped when it exists (it would take a table lock)."""
    if has_table(db):
        return
    with db.transaction() as cur:
        if db.dialect == "postgres":
            cur.run("SELECT pg_advisory_xact_lock(?)", (_LOCK,))
        cur.run(SCHEMA)


def insert(db: ViewDB, name: str, role: str, token_hash: str, at: float) -> bool:
    """Add a token; False when the name is (or was) taken. Nothing is written then."""
    with db.transaction() as cur:
        added = cur.run(
            "INSERT INTO pq_tokens (name, role, token_hash, created_at, revoked_at)"
            " VALUES (?, ?, ?, ?, NULL) ON CONFLICT (name) DO NOTHING",
            (name, role, token_hash, at),
        )
    return added == 1


def revoke(db: ViewDB, name: str, at: float) -> bool:
    """Mark an active token revoked; False when no active token has that name."""
    if not has_table(db):
        return False
    with db.transaction() as cur:
        changed = cur.run(
            "UPDATE pq_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
            (at, name),
        )
    return changed == 1


def all_tokens(db: ViewDB) -> list[dict[str, Any]]:
    """Every token ever created, oldest first: name, role, created_at, revoked_at."""
    if not has_table(db):
        return []
    return db.query(
        "SELECT name, role, created_at, revoked_at FROM pq_tokens ORDER BY created_at, name"
    )


def active(db: ViewDB) -> list[dict[str, Any]]:
    """The active tokens with their hashes: name, role, token_hash."""
    if not has_table(db):
        return []
    return db.query("SELECT name, role, token_hash FROM pq_tokens WHERE revoked_at IS NULL")
