"""The intent routes: submit (``POST /intents``), a receipt, an intent's trail and the list.

A submit records the intent as the token's name, starts its attempt in the vendor pool and
then polls the receipt for at most the body's ``wait`` seconds (``asyncio.sleep``, never
blocking the event loop). An agent sees its own intents' receipts only; another's is
answered exactly like an unknown id (404).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from proofqueue.domain.errors import IntentNotFound, InvalidInput
from proofqueue.entrypoints.http import parsing
from proofqueue.entrypoints.http.answers import Problem, json_answer, receipt_answer
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.parsing import MAX_LIMIT, MAX_OFFSET, read_json
from proofqueue.entrypoints.http.pools import Handlers


class IntentRoutes(Handlers):
    """``POST /intents``, ``GET /intents``, ``GET /intents/{id}`` and its ``/receipt``."""

    async def submit(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request)
        parsing.only(body, {"request_id", "actor", "target", "params", "wait"}, "submit")
        wait = parsing.wait(body.get("wait", 0.0))
        actor = body.get("actor")
        if not caller.local:
            if actor is not None and actor != caller.name:
                raise Problem(
                    403, f"actor: a token submits as itself ({caller.name!r}); leave actor out"
                )
            actor = caller.name
        receipt, created = await self.pools.submits(
            self.pq.record,
            body.get("request_id"),
            actor=actor,
            target=body.get("target"),
            params=body.get("params"),
        )
        receipt = await self.pools.drive(receipt, wait)
        return receipt_answer(receipt, 201 if created else 200)

    async def receipt(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, set())
        rid = parsing.request_id(request)
        found = await self.pools.short(self.pq.receipt, rid)
        if not caller.sees(found.actor):
            raise IntentNotFound(rid)  # the same answer as for an unknown id
        return receipt_answer(found)

    async def show(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, set())
        return json_answer(await self.pools.short(self.pq.show, parsing.request_id(request)))

    async def intents(self, request: Request, caller: Caller) -> Response:
        known = {"status", "actor", "target", "older_than", "limit", "offset", "cursor"}
        parsing.query(request, known)
        status = parsing.text(request, "status", 200) or ""
        cursor = parsing.text(request, "cursor", 2000)
        offset = parsing.whole(request, "offset", 0, MAX_OFFSET, 0)
        if cursor is not None and offset:
            raise InvalidInput("offset", "cannot be combined with a cursor")
        query: dict[str, Any] = {
            "status": [s for s in status.split(",") if s.strip()],
            "actor": parsing.text(request, "actor"),
            "target": parsing.text(request, "target"),
            "older_than": parsing.seconds(request, "older_than"),
            "limit": parsing.whole(request, "limit", 1, MAX_LIMIT, 100),
        }
        if cursor is None:
            return json_answer(await self.pools.short(self.pq.list, offset=offset, **query))
        # Keyset paging (``cursor=start`` for the first page): the body stays the array of
        # rows, and the next page's cursor is the X-Next-Cursor header (absent at the end).
        rows, following = await self.pools.short(self.pq.page, cursor=cursor, **query)
        answer = json_answer(rows)
        if following is not None:
            answer.headers["X-Next-Cursor"] = following
        return answer
