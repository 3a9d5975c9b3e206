"""Where the log and the views live: a SQLite file (default) or PostgreSQL.

``PROOFQUEUE_STORE`` is a file path, ``:memory:`` (a private in-memory database, for tests),
or ``postgresql://user:password@host:port/db`` with optional query parameters ``pool_size``,
``max_overflow``, ``connect_timeout``, ``lock_timeout`` and ``schema``. The log uses
eventsourcing's own persistence for either; the views are plain tables in the same database,
written through the same datastore.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, unquote, urlsplit

from proofqueue.domain.errors import ConfigurationError

MEMORY = ":memory:"

_PG_OPTIONS = {
    "pool_size": "POSTGRES_POOL_SIZE",
    "max_overflow": "POSTGRES_MAX_OVERFLOW",
    "connect_timeout": "POSTGRES_CONNECT_TIMEOUT",
    "lock_timeout": "POSTGRES_LOCK_TIMEOUT",
    "schema": "POSTGRES_SCHEMA",
}


def is_postgres(store: str) -> bool:
    return store.startswith(("postgresql://", "postgres://"))


def redact_store(store: str) -> str:
    """The store as it may be shown: never the password."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", store)


def eventsourcing_env(store: str) -> dict[str, str]:
    """The eventsourcing settings for ``store``; always names the persistence module."""
    env = {"AGGREGATE_CACHE_MAXSIZE": "2000"}
    if not is_postgres(store):
        if not store.strip():
            raise ConfigurationError("PROOFQUEUE_STORE is empty")
        if store == MEMORY:  # one private in-memory database, shared by this process's threads
            store = f"file:proofqueue-{uuid.uuid4().hex}?mode=memory&cache=shared"
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=store,
            SQLITE_LOCK_TIMEOUT="30",
        )
        return env
    parts = urlsplit(store)
    if not parts.hostname or not parts.path.strip("/") or not parts.username:
        raise ConfigurationError(
            f"PROOFQUEUE_STORE {redact_store(store)!r}: expected"
            " postgresql://user:password@host:port/dbname"
        )
    env.update(
        PERSISTENCE_MODULE="eventsourcing.postgres",
        POSTGRES_DBNAME=unquote(parts.path.strip("/")),
        POSTGRES_HOST=parts.hostname,
        POSTGRES_PORT=str(parts.port or 5432),
        POSTGRES_USER=unquote(parts.username),
        POSTGRES_PASSWORD=unquote(parts.password or ""),
        POSTGRES_POOL_SIZE="4",
        POSTGRES_MAX_OVERFLOW="12",
        POSTGRES_CONNECT_TIMEOUT="10",
        POSTGRES_LOCK_TIMEOUT="30",
    )
    for key, values in parse_qs(parts.query).items():
        if key not in _PG_OPTIONS:
            raise ConfigurationError(
                f"PROOFQUEUE_STORE: unknown option {key!r}; known: {', '.join(_PG_OPTIONS)}"
            )
        env[_PG_OPTIONS[key]] = values[-1]
    return env


@contextmanager
def opening(store: str) -> Iterator[dict[str, str]]:
    """The eventsourcing settings for ``store``, while it is safe to open it.

    On PostgreSQL, processes that open a new store at the same moment would race in
    eventsourcing's table creation (``CREATE TYPE``/``CREATE TABLE`` are not safe to run
    concurrently), so opening holds an advisory lock, and once the log's table exists the
    DDL is skipped altogether."""
    env = eventsourcing_env(store)
    if not is_postgres(store):
        yield env
        return
    try:
        import psycopg
    except ImportError:
        raise ConfigurationError(
            "a postgresql:// store needs psycopg: pip install 'proofqueue[postgres]'"
        ) from None

    schema = env.get("POSTGRES_SCHEMA") or "public"
    try:
        conn = psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=int(float(env["POSTGRES_CONNECT_TIMEOUT"])),
            autocommit=True,
        )
    except psycopg.Error as exc:
        raise ConfigurationError(
            f"cannot connect to {redact_store(store)}: {str(exc).strip()}"
        ) from None
    with conn:
        conn.execute("SELECT pg_advisory_lock(7270918)")
        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.proofqueue_events",)
        ).fetchone()
        if row and row[0]:
            env["CREATE_TABLE"] = "n"
        try:
            yield env
        finally:
            conn.execute("SELECT pg_advisory_unlock(7270918)")
