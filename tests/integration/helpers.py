"""Tools for the store integration tests: run the real ``proofqueue`` command, open the
Python API on a store, move time by hand, and read or edit a store's raw rows (SQLite file or
PostgreSQL database) the way an intruder with write access would.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from pydantic import SecretStr

from proofqueue import ProofQueue, Settings
from proofqueue.adapters.store import is_postgres
from proofqueue.domain.intent import intent_id

CLI = (sys.executable, "-m", "proofqueue")
# Wide enough that rich never truncates a cell of the tables the tests read.
COLUMNS = "400"
# Each run is a fresh interpreter: keep its bytecode (outside the source tree) so that the
# many short runs do not compile the package again each time.
PYCACHE = str(Path(tempfile.gettempdir()) / "proofqueue-tests-pycache")


@dataclass(frozen=True)
class Ran:
    """One finished run of the command."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (
            f"proofqueue {' '.join(self.args)} -> exit {self.code}\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )


def cli_env(store: str, **extra: str) -> dict[str, str]:
    """The environment of a run: this one, minus any inherited PROOFQUEUE_* setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROOFQUEUE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PROOFQUEUE_STORE=store, COLUMNS=COLUMNS, PYTHONPYCACHEPREFIX=PYCACHE)
    env.update(extra)
    return env


def run_cli(store: str, *args: str, env: dict[str, str] | None = None) -> Ran:
    """Run ``proofqueue ARGS`` in its own process against ``store``."""
    done = subprocess.run(
        [*CLI, *args],
        env=cli_env(store, **(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Ran(tuple(args), done.returncode, done.stdout, done.stderr)


def run_cli_many(
    store: str, commands: Sequence[Sequence[str]], env: dict[str, str] | None = None
) -> list[Ran]:
    """Run several commands, each in its own process; answers in the given order.

    On SQLite they run at once. On PostgreSQL one after another: processes that open one
    database at the same moment race in eventsourcing's schema set-up (reported as a bug;
    tests/integration/test_store_bugs_found.py), which is not what these tests are about."""
    if is_postgres(store):
        return [run_cli(store, *args, env=env) for args in commands]
    with ThreadPoolExecutor(max_workers=max(1, len(commands))) as pool:
        return list(pool.map(lambda args: run_cli(store, *args, env=env), commands))


def assert_clean_refusal(ran: Ran, code: int, *named: str) -> str:
    """Exit ``code`` with exactly one line on stderr that names each of ``named``; no
    traceback and nothing on stdout. Returns the line."""
    assert ran.code == code, str(ran)
    assert "Traceback" not in ran.output, str(ran)
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line\n{ran}"
    assert ran.stdout.strip() == "", str(ran)
    for name in named:
        assert name in lines[0], f"{name!r} not named in {lines[0]!r}"
    return lines[0]


class Clock:
    """Time that moves only when the test moves it, for ``ProofQueue(clock=...)``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@contextmanager
def open_queue(
    store: str, *, clock: Callable[[], datetime] | None = None, cipher_key: str | None = None
) -> Iterator[ProofQueue]:
    """The Python API on ``store`` (no vendor: submits answer QUEUED), closed afterwards."""
    settings = Settings(store=store, cipher_key=SecretStr(cipher_key) if cipher_key else None)
    pq = ProofQueue(settings, clock=clock) if clock is not None else ProofQueue(settings)
    try:
        yield pq
    finally:
        pq.close()


def log_counts(store: str) -> tuple[int, int]:
    """(intents, events) in the whole log, as ``verify --all`` counts them."""
    with open_queue(store) as pq:
        report = pq.verify()
    return report.intents, report.events


def make_trail(
    pq: ProofQueue,
    request_id: str,
    *,
    retries: int = 0,
    cancel: bool = False,
    actor: str = "agent-7",
    target: str = "0xProvider/logo",
    params: dict[str, Any] | None = None,
    operator: str = "ops-alice",
    step_s: float = 1.0,
) -> int:
    """An intent with 1 + retries (+1 if cancelled) events, made without a vendor: operator
    retries and a cancel. Moves a ``Clock`` by ``step_s`` between events. Returns the count."""
    clock = pq.parts.clock

    def tick() -> None:
        if isinstance(clock, Clock):
            clock.advance(step_s)

    pq.submit(request_id, actor=actor, target=target, params=params or {"size": "large"})
    for _ in range(retries):
        tick()
        pq.retry(request_id, operator=operator)
    if cancel:
        tick()
        pq.cancel(request_id, reason="no longer needed", operator=operator)
    return 1 + retries + int(cancel)


class RawStore:
    """A store's tables, read and written with plain SQL behind proofqueue's back.

    Statements are written with ``?`` placeholders; ``{events}`` names the event table."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.postgres = is_postgres(store)
        self.events_table = "proofqueue_events" if self.postgres else "stored_events"

    def originator(self, request_id: str) -> Any:
        """How the event table spells the aggregate id of ``request_id``."""
        uid = intent_id(request_id)
        return uid if self.postgres else uid.hex

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement in its own committed transaction; return its rows, if any."""
        text = statement.replace("{events}", self.events_table)
        if self.postgres:
            query = sql.SQL(text.replace("?", "%s"))
            with psycopg.connect(self.store, autocommit=True) as pg:
                cur = pg.execute(query, tuple(params))
                return cur.fetchall() if cur.description else []
        with closing(sqlite3.connect(self.store)) as lite, lite:
            return lite.execute(text, tuple(params)).fetchall()

    def events(self, request_id: str) -> list[tuple[int, str, bytes]]:
        """(version, topic, state) of each stored event of an intent, in version order."""
        rows = self.execute(
            "SELECT originator_version, topic, state FROM {events}"
            " WHERE originator_id = ? ORDER BY originator_version",
            (self.originator(request_id),),
        )
        return [(int(v), str(t), bytes(s)) for v, t, s in rows]

    def state(self, request_id: str, version: int) -> bytes:
        for found, _, state in self.events(request_id):
            if found == version:
                return state
        raise LookupError(f"{request_id} has no event {version}")

    def replace_in_state(self, request_id: str, version: int, old: str, new: str) -> None:
        """Edit one stored event's JSON state in place, with SQL string functions."""
        if self.postgres:
            statement = (
                "UPDATE {events} SET state ="
                " convert_to(replace(convert_from(state, 'UTF8'), ?, ?), 'UTF8')"
                " WHERE originator_id = ? AND originator_version = ?"
            )
        else:
            statement = (
                "UPDATE {events} SET state = CAST(replace(CAST(state AS TEXT), ?, ?) AS BLOB)"
                " WHERE originator_id = ? AND originator_version = ?"
            )
        before = self.state(request_id, version)
        assert old.encode() in before, f"{old!r} is not in event {version} of {request_id}"
        self.execute(statement, (old, new, self.originator(request_id), version))
        assert self.state(request_id, version) == before.replace(old.encode(), new.encode())

    def delete_event(self, request_id: str, version: int) -> None:
        self.execute(
            "DELETE FROM {events} WHERE originator_id = ? AND originator_version = ?",
            (self.originator(request_id), version),
        )

    def swap_events(self, request_id: str, a: int, b: int) -> None:
        """Exchange the type and state of two events of one intent (a reorder)."""
        events = {v: (topic, state) for v, topic, state in self.events(request_id)}
        for version, (topic, state) in ((a, events[b]), (b, events[a])):
            self.execute(
                "UPDATE {events} SET topic = ?, state = ?"
                " WHERE originator_id = ? AND originator_version = ?",
                (topic, state, self.originator(request_id), version),
            )

    def move_event(
        self, request_id: str, version: int, to_request_id: str, to_version: int
    ) -> None:
        """Re-file one event, whole, under another intent."""
        self.execute(
            "UPDATE {events} SET originator_id = ?, originator_version = ?"
            " WHERE originator_id = ? AND originator_version = ?",
            (self.originator(to_request_id), to_version, self.originator(request_id), version),
        )

    def everything(self) -> bytes:
        """Every stored byte an intruder could read.

        SQLite: the database file and its -wal/-journal/-shm companions, raw. PostgreSQL:
        every table of the database as ``SELECT t::text FROM table t``, plus every column
        value of every row (bytea raw, the rest as text)."""
        if not self.postgres:
            path = Path(self.store)
            parts = [
                Path(f"{path}{suffix}").read_bytes()
                for suffix in ("", "-wal", "-journal", "-shm")
                if Path(f"{path}{suffix}").exists()
            ]
            return b"\n".join(parts)
        chunks: list[bytes] = []
        with psycopg.connect(self.store, autocommit=True) as conn:
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_type = 'BASE TABLE'"
                " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
            assert tables, "no tables in the database"
            for schema, table in tables:
                name = sql.Identifier(schema, table)
                as_text = sql.SQL("SELECT t::text FROM {} t").format(name)
                chunks.extend(row[0].encode() for row in conn.execute(as_text))
                for row in conn.execute(sql.SQL("SELECT * FROM {}").format(name)):
                    for value in row:
                        chunks.append(value if isinstance(value, bytes) else str(value).encode())
        return b"\n".join(chunks)
