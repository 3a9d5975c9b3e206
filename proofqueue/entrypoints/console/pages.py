"""The console's page and the fragments it polls: the breaker (with the timeline), the
workers, the operator list and one intent. Every fragment is read behind the token check
(``Gate``) with ``Action.LIST``: operators and auditors; an agent is refused (403)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from proofqueue.domain.access import Action
from proofqueue.domain.errors import InvalidInput, ProofQueueError
from proofqueue.entrypoints.console import chart
from proofqueue.entrypoints.console.render import page
from proofqueue.entrypoints.http import parsing
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.parsing import MAX_OFFSET, MAX_OLDER_THAN_S
from proofqueue.entrypoints.http.pools import Handlers

PAGE_SIZE = 50
RANGES = {5: 60, 15: 60, 60: 60}  # minutes -> points
FILTERS = ("status", "actor", "target", "older_than")
OPEN = "QUEUED,RETRYING"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def may_act(caller: Caller) -> dict[str, bool]:
    """What the caller's role lets the page offer (the server checks again on each act)."""
    return {
        "retry": Action.RETRY in caller.allowed,
        "cancel": Action.CANCEL in caller.allowed,
        "hold": Action.HOLD in caller.allowed,
    }


class ConsolePages(Handlers):
    """``GET /console`` and the fragments under ``/console/p/``."""

    async def shell(self, request: Request) -> Response:
        """The page itself: no data and no token needed; its script asks for a token and
        then loads every fragment with it."""
        return page("console.html")

    async def whoami(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, set())
        return page("whoami.html", caller=caller, may=may_act(caller))

    async def controls(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, set())
        return page("controls.html", may=may_act(caller))

    async def breaker(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, {"minutes"})
        minutes = parsing.whole(request, "minutes", 5, 60, 60)
        minutes = min(RANGES, key=lambda m: abs(m - minutes))
        health = await self.pools.short(self.pq.health)
        timeline = await self.pools.short(self.pq.timeline, minutes * 60.0, RANGES[minutes])
        return page(
            "breaker.html",
            health=health,
            chart=chart.layout(timeline),
            minutes=minutes,
            ranges=list(RANGES),
            may=may_act(caller),
        )

    async def workers(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, set())
        return page("workers.html", workers=await self.pools.short(self.pq.workers))

    async def intents(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, {*FILTERS, "page"})
        chosen = filters_of(request)
        query = {k: v for k, v in chosen.items() if v}
        values: dict[str, Any] = {"may": may_act(caller), "error": None, "rows": []}
        values.update(here=urlencode(query), more=False, page=1, first=1, counts={})
        try:
            number = parsing.whole(request, "page", 1, MAX_OFFSET // PAGE_SIZE, 1)
            rows = await self.pools.short(
                self.pq.list,
                status=statuses(chosen),
                actor=chosen["actor"] or None,
                target=chosen["target"] or None,
                older_than=older_than(chosen),
                limit=PAGE_SIZE + 1,
                offset=(number - 1) * PAGE_SIZE,
            )
        except ProofQueueError as exc:  # a bad filter: said in the fragment, kept polling
            values["error"] = str(exc)
            return page("intents.html", **values)
        values.update(
            rows=rows[:PAGE_SIZE],
            more=len(rows) > PAGE_SIZE,
            page=number,
            first=(number - 1) * PAGE_SIZE + 1,
            counts=await self.pools.short(self.pq.counts),
            here=urlencode({**query, "page": number}),
            previous=urlencode({**query, "page": number - 1}),
            following=urlencode({**query, "page": number + 1}),
        )
        return page("intents.html", **values)

    async def intent(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, {"id"})
        rid = parsing.text(request, "id", 255)
        if not rid:
            return page("intent.html", trail=None, rid=None, error=None)
        try:
            trail = await self.pools.short(self.pq.show, rid)
            receipt = await self.pools.short(self.pq.receipt, rid)
            report = await self.pools.short(self.pq.verify, [rid])
        except ProofQueueError as exc:
            return page("intent.html", trail=None, rid=rid, error=str(exc))
        return page(
            "intent.html",
            rid=rid,
            trail=trail,
            receipt=receipt,
            receipt_json=receipt.model_dump_json(indent=2),
            verified=report,
            error=None,
            may=may_act(caller),
            url=urlencode({"id": rid}),
        )


def filters_of(request: Request) -> dict[str, str]:
    """The list's filter of a request's query (see ``filters_of_form``)."""
    return filters_of_form(dict(request.query_params))


def filters_of_form(given: Mapping[str, str]) -> dict[str, str]:
    """The list's filter as given, empty fields left out (``status`` defaults to the open
    statuses; ``ALL`` is every status)."""
    status = _field(given, "status", 200, OPEN)
    return {
        "status": status,
        "actor": _field(given, "actor", 512, ""),
        "target": _field(given, "target", 512, ""),
        "older_than": _field(given, "older_than", 40, ""),
    }


def _field(given: Mapping[str, str], name: str, limit: int, default: str) -> str:
    raw = given.get(name)
    if raw is None:
        return default
    if len(raw) > limit or CONTROL.search(raw):
        raise InvalidInput(name, f"must be at most {limit} characters, no control characters")
    return raw.strip()


def statuses(chosen: dict[str, str]) -> list[str]:
    """The statuses of a filter (none: every status)."""
    status = chosen["status"]
    if status.upper() in ("", "ALL"):
        return []
    return [s.strip() for s in status.split(",") if s.strip()]


def older_than(chosen: dict[str, str]) -> float | None:
    """The ``older_than`` of a filter in seconds, None when empty."""
    raw = chosen["older_than"]
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAX_OLDER_THAN_S:
        raise InvalidInput("older_than", f"must be a number of seconds (got {raw!r})")
    return value
