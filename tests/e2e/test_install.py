"""The embedded core installs and runs without its optional extras: no ASGI server, no
PostgreSQL driver. Commands that need one say which extra to install, in one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTRAS_MODULES = ("starlette", "uvicorn", "psycopg", "mcp")


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with ``pip install .`` (no extras). The venv gets no pip of its own
    (installing one costs ~15 s): this interpreter's pip installs into it (``--python``)."""
    venv = tmp_path_factory.mktemp("core") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
        check=True,
        capture_output=True,
    )
    return venv


def run(
    venv: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        cwd=venv.parent,
    )


def test_the_core_has_none_of_the_extras(core_venv: Path) -> None:
    """starlette, uvicorn and psycopg are not installed by ``pip install .``."""
    check = "import importlib.util as u; print([m for m in %r if u.find_spec(m)])"
    ran = run(core_venv, "python", "-c", check % (EXTRAS_MODULES,))
    assert ran.stdout.strip() == "[]", ran.stderr


def test_the_readme_example_runs_on_the_core(core_venv: Path, tmp_path: Path) -> None:
    """The README's embedded example needs no extra."""
    block = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)[0]
    script = tmp_path / "example.py"
    script.write_text(block)
    ran = run(core_venv, "python", str(script))
    assert ran.returncode == 0, ran.stderr
    assert "SETTLED" in ran.stdout


@pytest.mark.parametrize(
    ("args", "env", "extra"),
    [
        (("serve",), {}, "server"),
        (("vendor-sim",), {}, "server"),
        (("demo",), {}, "server"),
        (("mcp", "--actor", "agent-1"), {}, "mcp"),
        (("list",), {"PROOFQUEUE_STORE": "postgresql://u:p@127.0.0.1:9/db"}, "postgres"),
    ],
)
def test_a_command_that_needs_an_extra_names_it_in_one_line(
    core_venv: Path, args: tuple[str, ...], env: dict[str, str], extra: str
) -> None:
    """Exit 2 and one ``proofqueue:`` line with the pip command, never a traceback."""
    ran = run(core_venv, "proofqueue", *args, env=env)
    assert ran.returncode == 2, ran.stderr
    assert ran.stderr.count("\n") == 1
    assert ran.stderr.startswith("proofqueue: ")
    assert f"proofqueue[{extra}]" in ran.stderr
