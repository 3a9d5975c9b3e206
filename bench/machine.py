"""What the numbers were measured on, and this process's memory."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip('"')
    except OSError:
        pass
    return platform.system()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(  # noqa: S603  (only the fixed arguments below)
            ["git", *args],  # noqa: S607  (git from PATH)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _git_commit() -> str:
    """The commit measured, and whether the package's working copy differs from it."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git("status", "--porcelain", "--", "proofqueue")
    return f"{commit}, with uncommitted changes in proofqueue/" if changed else commit


def _filesystem(path: str) -> str:
    """The file system type holding ``path`` (where the benchmark's stores live)."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    real = os.path.realpath(path)
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3 and real.startswith(parts[1]) and len(parts[1]) > len(best):
            best, kind = parts[1], f"{parts[2]} ({parts[0]} on {parts[1]})"
    return kind


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def describe(store_dir: str) -> dict[str, str]:
    """The machine, the software and where the stores live."""
    return {
        "cpus": f"{os.cpu_count()} ({_cpu_model()})",
        "memory": _memory_gib(),
        "os": f"{_os_name()}, kernel {platform.release()} {platform.machine()}",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "sqlite": sqlite3.sqlite_version,
        "store file system": _filesystem(store_dir),
        "proofqueue": f"{_version('proofqueue')} (git {_git_commit()})",
        "eventsourcing": _version("eventsourcing"),
        "dbos": _version("dbos"),
        "httpx": _version("httpx"),
    }


def vm_kib(field: str) -> int:
    """A ``/proc/self/status`` memory field in KiB: ``VmHWM`` is the peak RSS."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")
