"""The auditor's routes: ``GET /verify`` (proof chains) and ``GET /replay`` (the views
rebuilt from the log, or the state as of a moment). Both run in the pool of long calls."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from proofqueue.domain.errors import InvalidInput
from proofqueue.entrypoints.http import parsing
from proofqueue.entrypoints.http.answers import json_answer
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.parsing import MAX_VERIFY_IDS, REQUEST_ID
from proofqueue.entrypoints.http.pools import Handlers


class AuditRoutes(Handlers):
    """``GET /verify[?request_id=...]`` and ``GET /replay[?check=true][&as_of=T]``."""

    async def verify(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, {"request_id"}, repeatable=frozenset({"request_id"}))
        ids = request.query_params.getlist("request_id")
        if len(ids) > MAX_VERIFY_IDS:
            raise InvalidInput("request_id", f"at most {MAX_VERIFY_IDS} at once")
        for rid in ids:
            if not REQUEST_ID.fullmatch(rid):
                raise InvalidInput("request_id", "must be 1-255 printable ASCII characters")
        report = await self.pools.slow(self.pq.verify, ids)
        return json_answer(
            {
                "intents": report.intents,
                "events": report.events,
                "ok": report.ok,
                "problems": [p.__dict__ for p in report.problems],
            }
        )

    async def replay(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, {"check", "as_of"})
        check, as_of = parsing.flag(request, "check"), parsing.as_of(request)
        report = await self.pools.slow(self.pq.replay, check=check, as_of=as_of)
        if report.as_of is not None:
            return json_answer(report.as_of_json())
        return json_answer(
            {
                "events": report.events,
                "seconds": round(report.seconds, 3),
                "differences": report.differences,
                "ok": not report.differences,
            }
        )
