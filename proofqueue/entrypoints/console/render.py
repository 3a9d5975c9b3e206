"""Rendering the console: the Jinja2 environment over the package's templates (autoescaped)
and the HTML answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

ENV = Environment(
    loader=PackageLoader("proofqueue.entrypoints.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def ago(at: str | datetime | None, now: datetime | None = None) -> str:
    """``12 s ago`` / ``3 min ago`` / ``2 h ago`` for an ISO time (or a datetime)."""
    if at is None:
        return "-"
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    return f"{span(abs(seconds))} {'ago' if seconds >= 0 else 'from now'}"


def span(seconds: float | None) -> str:
    """A duration in the largest unit that keeps it readable."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def clock(at: str | datetime | None) -> str:
    """The time of day (UTC) of an ISO time, to the second."""
    if at is None:
        return "-"
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(UTC).strftime("%H:%M:%S")


def shown(value: object) -> str:
    """A trail field as text: JSON for objects and lists, else as it is."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


ENV.filters["shown"] = shown
ENV.filters["ago"] = ago
ENV.filters["span"] = span
ENV.filters["clock"] = clock


def page(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any
) -> HTMLResponse:
    """An HTML answer rendered from ``template`` with ``values``."""
    body = ENV.get_template(template).render(**values)
    return HTMLResponse(body, status_code=status, headers=headers)
