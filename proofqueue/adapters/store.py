"""Where the log and the views live: a SQLite file (default) or PostgreSQL.

``PROOFQUEUE_STORE`` is a file path, ``:memory:`` (a private in-memory database, for tests),
or ``postgresql://user:password@host:port/db`` with optional query parameters ``pool_size``,
``max_overflow``, ``connect_timeout``, ``lock_timeout`` and ``schema``. The log uses
eventsourcing's own persistence for either; the views are plain tables in the same database,
written through the same datastore.

Before anything is opened the setting is checked, so that a mistake is one
``ConfigurationError`` line and creates nothing: a path in a missing folder, a folder, a
file that is not a SQLite database, a ``sqlite://`` or other URL, a malformed PostgreSQL URL,
a server that does not answer within the (short) connect timeout. With ``create=False`` (the
commands that only read) a store that does not exist yet, an empty file, or a database
without proofqueue's tables is "no store", and none is created.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from proofqueue.domain.errors import ConfigurationError

MEMORY = ":memory:"
VARIABLE = "PROOFQUEUE_STORE"
SQLITE_HEADER = b"SQLite format 3\x00"
EVENTS_TABLE_SQLITE = "stored_events"
EVENTS_TABLE_POSTGRES = "proofqueue_events"
# How every "there is no store here" refusal begins (the CLI tells it from other mistakes:
# retry and cancel answer "no intent" for it, exit 3).
NO_STORE = "no store at"
# Seconds to wait for a PostgreSQL server to answer (libpq's least is 2).
CONNECT_TIMEOUT_S = 5

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SUPPORTED = (
    "a SQLite file path (such as proofqueue.db) or postgresql://user:password@host:port/dbname"
)

# query option -> (eventsourcing setting, the least value, or None for the schema name)
_PG_OPTIONS: dict[str, tuple[str, int | None]] = {
    "pool_size": ("POSTGRES_POOL_SIZE", 1),
    "max_overflow": ("POSTGRES_MAX_OVERFLOW", 0),
    "connect_timeout": ("POSTGRES_CONNECT_TIMEOUT", 1),
    "lock_timeout": ("POSTGRES_LOCK_TIMEOUT", 0),
    "schema": ("POSTGRES_SCHEMA", None),
}


def is_postgres(store: str) -> bool:
    return store.startswith(("postgresql://", "postgres://"))


def redact_store(store: str) -> str:
    """The store as it may be shown: never the password (even one holding a raw ``@``:
    everything before the last ``@`` of the URL is the user and password)."""
    scheme, sep, rest = store.partition("://")
    at = rest.rfind("@")
    if not sep or at < 0:
        return store
    userinfo, host = rest[:at], rest[at + 1 :]
    user = userinfo.split(":", 1)[0] if "/" not in userinfo else ""
    return f"{scheme}://{user}:***@{host}" if user else f"{scheme}://***@{host}"


def check_store(store: str, *, create: bool = True) -> None:
    """Refuse a store setting that cannot be a store, before anything is opened.

    SQLite paths are checked on the file system (the file and its folder); PostgreSQL URLs
    only for their form (``opening`` connects). ``create=False``: the store must exist."""
    if not store.strip():
        raise ConfigurationError(f"{VARIABLE} is empty")
    if store == MEMORY:
        return
    if is_postgres(store):
        _postgres_env(store)
        return
    scheme = _SCHEME.match(store)
    if scheme:
        name = scheme.group(1).lower()
        if name in ("sqlite", "sqlite3"):
            path = urlsplit(store).path.removeprefix("/") or "proofqueue.db"
            raise ConfigurationError(
                f"{VARIABLE} {redact_store(store)!r}: use a plain path, {VARIABLE}={path}"
            )
        raise ConfigurationError(
            f"{VARIABLE}: unsupported scheme {name!r}; supported: {_SUPPORTED}"
        )
    if store.startswith("file:"):
        raise ConfigurationError(
            f"{VARIABLE} {store!r}: use a plain path, not a file: URI ({_SUPPORTED})"
        )
    _check_sqlite_path(store, create=create)


def _check_sqlite_path(store: str, *, create: bool) -> None:
    path = Path(store)
    shown = f"{VARIABLE} {store!r}"
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        _check_folder(store, path.parent, create=create)
        if not create:
            raise ConfigurationError(
                f"{NO_STORE} {store!r} (only submit, worker, serve, token create and vendor"
                f" hold create one; set {VARIABLE} to an existing store, or start one with"
                " `proofqueue submit`)"
            ) from None
        return
    except OSError as exc:
        raise ConfigurationError(f"{shown} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        example = os.path.join(store, "proofqueue.db")
        raise ConfigurationError(
            f"{shown} is a folder, not a store file (give a file path such as {example!r})"
        )
    if not stat.S_ISREG(info.st_mode):
        raise ConfigurationError(f"{shown} is not a regular file, so it cannot be a store")
    if info.st_size == 0:
        if create:
            return  # an empty SQLite database: the store is started in it
        raise ConfigurationError(
            f"{NO_STORE} {store!r}: it is an empty file (`proofqueue submit` starts a store in it)"
        )
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise ConfigurationError(f"{shown} cannot be read: {exc.strerror}") from None
    if header != SQLITE_HEADER:
        raise ConfigurationError(f"{shown} is not a SQLite database, so not a proofqueue store")
    if not create and not _has_events_table(path):
        raise ConfigurationError(
            f"{NO_STORE} {store!r}: it is a SQLite database without proofqueue's tables"
        )


def _has_events_table(path: Path) -> bool:
    """Whether the SQLite database at ``path`` holds proofqueue's log, looked at read-only.
    When it cannot be looked at that way (say a journal left by a crash needs a writer),
    the answer is yes: opening it for real then tells (one line, from ``bootstrap``)."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            rows = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (EVENTS_TABLE_SQLITE,),
            ).fetchall()
    except sqlite3.Error:
        return True
    return bool(rows)


def _check_folder(store: str, folder: Path, *, create: bool) -> None:
    """The folder a new store file would be made in: it must exist (and be writable)."""
    shown = f"{VARIABLE} {store!r}"
    for above in (folder, *folder.parents):
        if above.exists():
            if not above.is_dir():
                raise ConfigurationError(f"{shown}: {str(above)!r} is a file, not a folder")
            break
    if not folder.is_dir():
        hint = " (create it first)" if create else ""
        raise ConfigurationError(f"{shown}: the folder {str(folder)!r} does not exist{hint}")
    if create and not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"{shown}: cannot create a store in the folder {str(folder)!r}: permission denied"
        )


def eventsourcing_env(store: str) -> dict[str, str]:
    """The eventsourcing settings for ``store``; always names the persistence module."""
    env = {"AGGREGATE_CACHE_MAXSIZE": "2000"}
    if not is_postgres(store):
        if not store.strip():
            raise ConfigurationError(f"{VARIABLE} is empty")
        if store == MEMORY:  # one private in-memory database, shared by this process's threads
            store = f"file:proofqueue-{uuid.uuid4().hex}?mode=memory&cache=shared"
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=store,
            SQLITE_LOCK_TIMEOUT="30",
        )
        return env
    env.update(_postgres_env(store))
    return env


def _postgres_env(store: str) -> dict[str, str]:
    """The eventsourcing settings of a postgresql:// URL, refusing a malformed one."""
    shown = redact_store(store)
    try:
        parts = urlsplit(store)
        port = parts.port
    except ValueError as exc:
        problem = "the port is not a number from 1 to 65535"
        if "IPv6" in str(exc):
            problem = "the host's [IPv6 address] is malformed"
        raise ConfigurationError(f"{VARIABLE} {shown!r}: {problem}") from None
    if not parts.hostname or not parts.path.strip("/") or not parts.username:
        raise ConfigurationError(
            f"{VARIABLE} {shown!r}: expected postgresql://user:password@host:port/dbname"
        )
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.strip("/")),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(port or 5432),
        "POSTGRES_USER": unquote(parts.username),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "12",
        "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S),
        "POSTGRES_LOCK_TIMEOUT": "30",
    }
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        if key not in _PG_OPTIONS:
            raise ConfigurationError(
                f"{VARIABLE}: unknown option {key!r}; known: {', '.join(_PG_OPTIONS)}"
            )
        setting, least = _PG_OPTIONS[key]
        env[setting] = _pg_option(key, values[-1], least)
    return env


def _pg_option(key: str, raw: str, least: int | None) -> str:
    if least is None:
        if not _IDENTIFIER.match(raw):
            raise ConfigurationError(
                f"{VARIABLE} option {key}: {raw!r} is not a schema name (letters, digits, _)"
            )
        return raw
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not value.is_integer() or value < least:
        raise ConfigurationError(
            f"{VARIABLE} option {key}: {raw!r} is not a whole number of at least {least}"
            + (" (seconds)" if key.endswith("timeout") else "")
        )
    return str(int(value))


def _where(env: dict[str, str]) -> str:
    host = env["POSTGRES_HOST"]
    return f"{f'[{host}]' if ':' in host else host}:{env['POSTGRES_PORT']}"


@contextmanager
def opening(store: str, *, create: bool = True) -> Iterator[dict[str, str]]:
    """The eventsourcing settings for ``store``, while it is safe to open it.

    The setting is checked first (``check_store``); ``create=False`` refuses a store that
    does not exist yet instead of creating it.

    On PostgreSQL, processes that open a new store at the same moment would race in
    eventsourcing's table creation (``CREATE TYPE``/``CREATE TABLE`` are not safe to run
    concurrently), so opening holds an advisory lock, and once the log's table exists the
    DDL is skipped altogether."""
    check_store(store, create=create)
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
    password = env["POSTGRES_PASSWORD"]
    try:
        conn = psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=password,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        )
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        if len(password) >= 3:
            reason = reason.replace(password, "***")
        raise ConfigurationError(
            f"cannot connect to PostgreSQL at {_where(env)} (database"
            f" {env['POSTGRES_DBNAME']!r}, user {env['POSTGRES_USER']!r}): {reason}"
        ) from None
    with conn:
        conn.execute("SELECT pg_advisory_lock(7270918)")
        try:
            row = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.{EVENTS_TABLE_POSTGRES}",)
            ).fetchone()
            exists = bool(row and row[0])
            if exists:
                env["CREATE_TABLE"] = "n"
            elif not create:
                raise ConfigurationError(
                    f"{NO_STORE} {redact_store(store)!r}: the database has no proofqueue tables"
                    f" (schema {schema!r}); only submit, worker, serve, token create and vendor"
                    " hold create them"
                )
            yield env
        finally:
            conn.execute("SELECT pg_advisory_unlock(7270918)")
