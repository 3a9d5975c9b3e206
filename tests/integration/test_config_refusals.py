"""Configuration mistakes and missing or empty stores, through the real command and the
Python API: one ``proofqueue:`` line and exit 2 (no traceback), nothing created, and an
empty log never reported as verified.

Each command runs in-process through click's ``CliRunner`` with the test's folder as the
working directory, so a store created by accident (even the default ``proofqueue.db``) shows
up in the folder listing taken before and after.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from proofqueue import ProofQueue, Settings
from proofqueue.domain.errors import ConfigurationError
from proofqueue.entrypoints.cli import main

READS: list[tuple[str, ...]] = [
    ("show", "order-1"),
    ("receipt", "order-1"),
    ("list",),
    ("health",),
    ("verify", "--all"),
    ("verify", "order-1"),
    ("replay",),
    ("replay", "--check"),
]
# Operator actions need the intent: they never create a store either.
ACTIONS: list[tuple[str, ...]] = [
    ("retry", "order-1"),
    ("cancel", "order-1", "--reason", "not needed"),
]
SUBMIT = ("submit", "--request-id", "order-1", "--actor", "agent-7", "--target", "0xP/logo")
# Commands that may create the store (worker and serve also need a vendor URL to start).
CREATING: list[tuple[str, ...]] = [SUBMIT, ("worker",), ("serve", "--port", "0")]
VENDOR = {"PROOFQUEUE_VENDOR_URL": "http://127.0.0.1:9"}


def ids(commands: list[tuple[str, ...]]) -> list[str]:
    return [" ".join(c[:2]) if c[0] != "submit" else "submit" for c in commands]


def listing(folder: Path) -> list[str]:
    """Every file and folder under ``folder``, relative to it."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run(store: str | None, *args: str, env: dict[str, str] | None = None) -> Result:
    """``proofqueue ARGS`` with PROOFQUEUE_STORE=``store`` and no other inherited setting."""
    environ: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PROOFQUEUE_")}
    environ["PROOFQUEUE_STORE"] = store
    environ.update(env or {})
    return CliRunner().invoke(main, list(args), env=environ, prog_name="proofqueue")


def refused(result: Result, code: int, *named: str) -> str:
    """Exit ``code``, no traceback, exactly one ``proofqueue:`` line on stderr naming each of
    ``named``, nothing on stdout. Returns the line."""
    shown = f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert isinstance(result.exception, SystemExit), f"{result.exception!r}\n{shown}"
    assert result.exit_code == code, shown
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, shown
    assert lines[0].startswith("proofqueue: "), shown
    assert result.stdout.strip() == "", shown
    for name in named:
        assert name in lines[0], f"{name!r} not named in {lines[0]!r}"
    return lines[0]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's folder, also the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def not_sqlite(here: Path) -> str:
    (here / "notes.db").write_text("shopping list\n")
    return "notes.db"


def a_folder(here: Path) -> str:
    (here / "stores").mkdir()
    return "stores"


def damaged_sqlite(here: Path) -> str:
    (here / "damaged.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    return "damaged.db"


def empty_file(here: Path) -> str:
    (here / "empty.db").touch()
    return "empty.db"


# (case, how to make the store setting, words the line must name)
BAD_STORES = [
    ("missing folder", lambda h: "nowhere/queue.db", ("nowhere",)),
    ("a folder", a_folder, ("stores", "folder")),
    ("a text file", not_sqlite, ("notes.db", "not a SQLite database")),
    ("a damaged SQLite file", damaged_sqlite, ("damaged.db",)),
    ("a file inside a file", lambda h: not_sqlite(h) + "/queue.db", ("notes.db", "not a folder")),
    ("sqlite URL", lambda h: "sqlite:///queue.db", ("plain path", "queue.db")),
    ("sqlite URL, absolute", lambda h: "sqlite:////srv/queue.db", ("plain path", "/srv/queue.db")),
    ("mysql URL", lambda h: "mysql://pq:hunter2@db.example/pq", ("'mysql'", "postgresql://")),
    ("http URL", lambda h: "https://db.example/pq", ("'https'", "postgresql://")),
    ("postgres port", lambda h: "postgresql://pq:hunter2@db.example:5x/pq", ("port",)),
    ("postgres no user", lambda h: "postgresql://db.example/pq", ("postgresql://user",)),
    ("postgres no db", lambda h: "postgresql://pq:hunter2@db.example", ("dbname",)),
    ("postgres option", lambda h: "postgresql://pq:pw@h/pq?poolsize=3", ("poolsize",)),
    ("postgres option value", lambda h: "postgresql://pq:pw@h/pq?pool_size=lots", ("pool_size",)),
    ("postgres timeout", lambda h: "postgresql://pq:pw@h/pq?connect_timeout=nan", ("timeout",)),
]


@pytest.mark.parametrize(
    ("make", "named"), [(m, n) for _, m, n in BAD_STORES], ids=[c for c, _, _ in BAD_STORES]
)
@pytest.mark.parametrize("command", READS + ACTIONS + CREATING, ids=ids(READS + ACTIONS + CREATING))
def test_a_store_setting_that_cannot_be_a_store_is_one_line_and_creates_nothing(
    here: Path, make: object, named: tuple[str, ...], command: tuple[str, ...]
) -> None:
    """Every command that opens the store refuses a bad PROOFQUEUE_STORE cleanly, exit 2."""
    store = make(here)  # type: ignore[operator]
    before = listing(here)
    line = refused(run(store, *command, env=VENDOR), 2, *named)
    assert "hunter2" not in line
    assert listing(here) == before


@pytest.mark.parametrize("command", READS, ids=ids(READS))
def test_a_command_that_only_reads_never_creates_a_missing_store(
    here: Path, command: tuple[str, ...]
) -> None:
    """Reads on a missing file say "no store at PATH", exit 2, and create nothing."""
    before = listing(here)
    refused(run("queue.db", *command), 2, "no store at 'queue.db'")
    assert listing(here) == before


@pytest.mark.parametrize("command", READS, ids=ids(READS))
def test_a_command_that_only_reads_never_creates_the_default_store(
    here: Path, command: tuple[str, ...]
) -> None:
    """With PROOFQUEUE_STORE unset, reads do not create ./proofqueue.db either."""
    refused(run(None, *command), 2, "no store at 'proofqueue.db'")
    assert listing(here) == []


@pytest.mark.parametrize("store", ["queue.db", None], ids=["queue.db", "default"])
@pytest.mark.parametrize("command", ACTIONS, ids=ids(ACTIONS))
def test_retry_or_cancel_on_a_missing_store_is_an_unknown_intent_and_creates_nothing(
    here: Path, command: tuple[str, ...], store: str | None
) -> None:
    """retry and cancel need the intent: exit 3 naming it and the missing store."""
    refused(run(store, *command), 3, "'order-1'", f"no store at '{store or 'proofqueue.db'}'")
    assert listing(here) == []


@pytest.mark.parametrize("command", READS, ids=ids(READS))
def test_a_zero_length_file_is_not_a_store_for_a_read(here: Path, command: tuple[str, ...]) -> None:
    """An empty file (say from touch) is refused by reads, exit 2, and left empty."""
    store = empty_file(here)
    refused(run(store, *command), 2, "empty.db", "empty file")
    assert (here / store).stat().st_size == 0


def test_submit_creates_a_missing_store(here: Path) -> None:
    """submit is the command that starts a store: the file appears, the intent in it."""
    assert run("queue.db", *SUBMIT, "--json").exit_code == 0
    assert "queue.db" in listing(here)
    assert run("queue.db", "receipt", "order-1").exit_code == 0


def test_submit_starts_a_store_in_a_zero_length_file(here: Path) -> None:
    """A zero-length file is an empty SQLite database to write into (touch, then submit)."""
    store = empty_file(here)
    assert run(store, *SUBMIT).exit_code == 0
    assert run(store, "verify", "--all").exit_code == 0


@pytest.mark.parametrize(
    ("command", "named"),
    [(("worker",), "PROOFQUEUE_VENDOR_URL"), (("serve", "--with-worker"), "PROOFQUEUE_VENDOR_URL")],
    ids=["worker", "serve --with-worker"],
)
def test_a_worker_without_a_vendor_is_refused_before_any_store_is_created(
    here: Path, command: tuple[str, ...], named: str
) -> None:
    """worker needs a vendor; saying so must not leave a new store behind."""
    refused(run("queue.db", *command), 2, named)
    assert listing(here) == []


def test_a_sqlite_database_of_another_program_is_not_a_store_for_a_read(here: Path) -> None:
    """A SQLite file without proofqueue's tables is refused by reads and left unchanged."""
    import sqlite3

    with sqlite3.connect(here / "other.db") as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    before = (here / "other.db").read_bytes()
    refused(run("other.db", "list"), 2, "other.db", "no store")
    assert (here / "other.db").read_bytes() == before
    assert listing(here) == ["other.db"]


def test_verify_all_on_an_empty_store_names_the_empty_log_and_exits_1(store: str) -> None:
    """A store with no intents in its log is not "all chains verify": exit 1, said plainly."""
    ProofQueue(Settings(store=store)).close()
    result = run(store, "verify", "--all")
    assert result.exit_code == 1, result.output
    assert "the log is empty" in result.output
    assert "all chains verify" not in result.output
    as_json = run(store, "verify", "--all", "--json")
    assert as_json.exit_code == 1
    assert '"ok": false' in as_json.stdout
    assert "the log is empty" in as_json.stdout


def test_verify_on_an_empty_store_is_not_ok_through_the_api(store: str) -> None:
    """``pq.verify()`` of a log without intents reports a problem, not success."""
    with ProofQueue(Settings(store=store)) as pq:
        report = pq.verify()
    assert not report.ok
    assert [p.problem for p in report.problems] == ["the log is empty: no intents to verify"]


def test_verify_all_on_a_store_with_intents_still_verifies(store: str) -> None:
    """The empty-log check does not touch a log that has intents."""
    assert run(store, *SUBMIT).exit_code == 0
    result = run(store, "verify", "--all")
    assert result.exit_code == 0, result.output
    assert "all chains verify" in result.stdout


@pytest.mark.parametrize(("_case", "make", "_named"), BAD_STORES, ids=[c for c, *_ in BAD_STORES])
def test_the_api_raises_the_same_one_line_as_the_command(
    here: Path, _case: str, make: object, _named: tuple[str, ...]
) -> None:
    """``ProofQueue(Settings(store=...))`` raises ConfigurationError with the CLI's message."""
    store = make(here)  # type: ignore[operator]
    with pytest.raises(ConfigurationError) as caught:
        ProofQueue(Settings(store=store))
    line = refused(run(store, *SUBMIT), 2)
    assert line == f"proofqueue: {caught.value}"


def test_the_api_opens_an_existing_store_only_when_asked_not_to_create(here: Path) -> None:
    """``Settings(create_store=False)`` refuses a missing store with the reads' message."""
    with pytest.raises(ConfigurationError, match=r"no store at 'queue\.db'"):
        ProofQueue(Settings(store="queue.db", create_store=False))
    assert listing(here) == []


@pytest.mark.parametrize(
    ("variable", "closest"),
    [("PROOFQUEUE_CIPHERKEY", "PROOFQUEUE_CIPHER_KEY"), ("PROOFQUEUE_STOR", "PROOFQUEUE_STORE")],
)
@pytest.mark.parametrize("command", [("list",), SUBMIT], ids=["list", "submit"])
def test_a_misspelt_variable_stops_the_command_before_it_opens_the_store(
    here: Path, variable: str, closest: str, command: tuple[str, ...]
) -> None:
    """An unknown PROOFQUEUE_* variable is exit 2 naming it and the closest known name."""
    refused(run("queue.db", *command, env={variable: "x"}), 2, variable, closest)
    assert listing(here) == []


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_nonsense_number_in_the_environment_is_exit_2(here: Path, value: str) -> None:
    """PROOFQUEUE_RETRY_BASE_S=nan (or inf, or negative) is refused by the command."""
    result = run("queue.db", *SUBMIT, env={"PROOFQUEUE_RETRY_BASE_S": value})
    refused(result, 2, "PROOFQUEUE_RETRY_BASE_S")
    assert listing(here) == []


@pytest.mark.parametrize("url", ["vendor.example:8080", "ftp://vendor.example"])
def test_a_vendor_url_without_http_is_exit_2(here: Path, url: str) -> None:
    """PROOFQUEUE_VENDOR_URL without an http(s) scheme is refused before the store opens."""
    result = run("queue.db", *SUBMIT, env={"PROOFQUEUE_VENDOR_URL": url})
    refused(result, 2, "PROOFQUEUE_VENDOR_URL")
    assert listing(here) == []


def test_a_vendor_url_with_credentials_works_and_is_never_printed(here: Path) -> None:
    """Credentials in PROOFQUEUE_VENDOR_URL are accepted but appear in no output."""
    env = {"PROOFQUEUE_VENDOR_URL": "http://buyer:hunter2@127.0.0.1:9"}
    assert run("queue.db", *SUBMIT, env=env).exit_code == 0
    for args in (("health",), ("health", "--json"), ("list", "--json"), ("show", "order-1")):
        result = run("queue.db", *args, env=env)
        assert result.exit_code == 0, result.output
        assert "hunter2" not in result.output


@pytest.fixture
def silent_server() -> Iterator[tuple[str, int]]:
    """A TCP port that accepts connections and never says a word (a hung server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("query", ["?connect_timeout=2", ""], ids=["timeout 2 s", "default"])
@pytest.mark.parametrize("command", [("list",), SUBMIT], ids=["list", "submit"])
def test_a_postgres_server_that_does_not_answer_is_one_line_soon(
    silent_server: tuple[str, int], query: str, command: tuple[str, ...]
) -> None:
    """A hung server is given up on within the (short) connect timeout, naming host:port and
    not the password, even one with a raw ``@`` in it."""
    host, port = silent_server
    store = f"postgresql://pq:se@cret@{host}:{port}/pq{query}"
    started = time.monotonic()
    line = refused(run(store, *command), 2, f"{host}:{port}")
    assert time.monotonic() - started < 15
    assert "se@cret" not in line
    assert "cret" not in line


def test_a_postgres_port_nobody_listens_on_is_one_line(closed_port: int) -> None:
    """A refused connection names host:port and hides the password."""
    store = f"postgresql://pq:se@cret@127.0.0.1:{closed_port}/pq"
    line = refused(run(store, "list"), 2, f"127.0.0.1:{closed_port}")
    assert "cret" not in line


@pytest.mark.parametrize("command", READS + ACTIONS, ids=ids(READS + ACTIONS))
def test_a_read_on_an_empty_postgres_database_creates_no_tables(
    postgres_url: str, command: tuple[str, ...]
) -> None:
    """A database without proofqueue's tables is "no store" for reads, and stays empty."""
    import psycopg

    code = 3 if command in ACTIONS else 2
    refused(run(postgres_url, *command), code, "no store at", "no proofqueue tables")
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert tables == []
