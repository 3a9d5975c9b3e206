"""Access tokens: create (shown once), list, revoke, and find the caller a token stands for.

A token is ``pq_`` followed by 32 random bytes (urlsafe base64). Only its SHA-256 is
stored. A presented token is hashed and compared with every active hash in constant time
(``hmac.compare_digest``, no early exit), so the answer's timing does not depend on how much
of a hash matched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from proofqueue.bootstrap import Components
from proofqueue.domain.access import (
    MAX_TOKEN,
    TOKEN_PREFIX,
    Principal,
    Role,
    TokenNameTaken,
    TokenNotFound,
    parse_name,
    parse_role,
)
from proofqueue.projections import tokens


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(parts: Components, name: object, role: object) -> tuple[dict[str, str | None], str]:
    """A new token for ``name`` with ``role``: its listing row and the token itself."""
    name = parse_name(name)
    chosen = parse_role(role)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = parts.clock()
    tokens.create_table(parts.db)
    if not tokens.insert(parts.db, name, chosen.value, token_hash(token), now.timestamp()):
        raise TokenNameTaken(name)
    return {"name": name, "role": chosen.value, "created_at": now.isoformat()}, token


def listing(parts: Components) -> list[dict[str, str | None]]:
    """Every token: name, role, created_at, revoked_at (null while active). Never a token."""
    return [
        {
            "name": row["name"],
            "role": row["role"],
            "created_at": _iso(row["created_at"]),
            "revoked_at": _iso(row["revoked_at"]),
        }
        for row in tokens.all_tokens(parts.db)
    ]


def revoke(parts: Components, name: object) -> None:
    """Revoke the active token named ``name``: it is refused from the next request on."""
    if not isinstance(name, str) or not tokens.revoke(parts.db, name, parts.clock().timestamp()):
        raise TokenNotFound(str(name))


def has_active(parts: Components) -> bool:
    return bool(tokens.active(parts.db))


def authenticate(parts: Components, token: str) -> Principal | None:
    """The caller ``token`` stands for, or None when it is not an active token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN:
        return None
    presented = token_hash(token)
    found: Principal | None = None
    for row in tokens.active(parts.db):
        if hmac.compare_digest(str(row["token_hash"]), presented) and found is None:
            found = Principal(str(row["name"]), Role(row["role"]))
    return found


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()
