"""Optional extras: the embedded core installs without an ASGI server or a PostgreSQL driver.
A command that needs one says which extra to install, in one line."""

from __future__ import annotations

import importlib.util

from proofqueue.domain.errors import ConfigurationError


def need(extra: str, *modules: str) -> None:
    """Refuse with one line naming the extra when one of ``modules`` is not installed."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigurationError(
            f"this needs {', '.join(missing)}: pip install 'proofqueue[{extra}]'"
        )
