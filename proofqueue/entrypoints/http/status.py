"""The status routes: ``GET /health`` and ``GET /workers`` (behind a token), and the two
public ones, ``GET /tlog/checkpoint`` (the latest signed checkpoint, text/plain) and
``GET /openapi.json`` (the description in ``openapi``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proofqueue.domain.errors import ProofQueueError
from proofqueue.entrypoints.http import parsing
from proofqueue.entrypoints.http.answers import error, json_answer, status_of
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.openapi import OPENAPI
from proofqueue.entrypoints.http.pools import Handlers


class StatusRoutes(Handlers):
    """``/health``, ``/workers``, ``/tlog/checkpoint`` and ``/openapi.json``."""

    async def workers(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, set())
        return json_answer(await self.pools.short(self.pq.workers))

    async def health(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, set())
        view = await self.pools.short(self.pq.health)
        return json_answer(view.seen_by(caller.sees_all))

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def checkpoint(self, request: Request) -> Response:
        """The latest signed checkpoint: public, like any transparency log's."""
        try:
            parsing.query(request, set())
            text = await self.pools.short(self.pq.checkpoint)
        except ProofQueueError as exc:
            return error(status_of(exc), str(exc))
        if text is None:
            return JSONResponse({"error": "no checkpoint signed yet"}, status_code=404)
        return Response(text, media_type="text/plain; charset=utf-8")
