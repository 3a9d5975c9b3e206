"""Shared fixtures: the same tests run on SQLite and on PostgreSQL by configuration alone.

``store`` is parametrized over both stores. PostgreSQL comes from PROOFQUEUE_TEST_POSTGRES_URL
(``scripts/with-postgres`` starts a throwaway server and sets it); each test gets a database of
its own. Without that variable the PostgreSQL cases are skipped, with the reason shown, unless
PROOFQUEUE_REQUIRE_POSTGRES=1 (as in CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

PG_ENV = "PROOFQUEUE_TEST_POSTGRES_URL"


def _pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("PROOFQUEUE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{PG_ENV} is not set but PROOFQUEUE_REQUIRE_POSTGRES=1")
        pytest.skip(f"no PostgreSQL: set {PG_ENV} or run through scripts/with-postgres")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test; dropped afterwards."""
    import psycopg

    admin = _pg_admin_url()
    name = f"pq_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL: a SQLite file in a temporary folder, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "proofqueue.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def sqlite_store(tmp_path: Path) -> str:
    return str(tmp_path / "proofqueue.db")
