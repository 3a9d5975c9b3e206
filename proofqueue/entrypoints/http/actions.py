"""The operator's actions: retry and cancel an intent, hold and release the vendor.

Each is recorded with the token's name as the operator, never a value from the body (an
``operator`` field is still accepted, for older clients, and ignored).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from proofqueue.domain.errors import InvalidInput
from proofqueue.entrypoints.http import parsing
from proofqueue.entrypoints.http.answers import json_answer, receipt_answer
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.parsing import read_json
from proofqueue.entrypoints.http.pools import Handlers


class OperatorRoutes(Handlers):
    """``POST /intents/{id}/retry`` and ``/cancel``, ``POST /vendor/hold`` and ``/release``."""

    async def retry(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request, empty_ok=True)
        # "operator" is accepted for older clients and ignored: the token names the operator.
        parsing.only(body, {"operator"}, "retry")
        found = await self.pools.short(
            self.pq.retry, parsing.request_id(request), operator=caller.name
        )
        return receipt_answer(found)

    async def cancel(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request)
        parsing.only(body, {"reason", "operator"}, "cancel")
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise InvalidInput("reason", "must be a string saying why")
        found = await self.pools.short(
            self.pq.cancel, parsing.request_id(request), reason=reason, operator=caller.name
        )
        return receipt_answer(found)

    async def hold(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request)
        parsing.only(body, {"reason", "operator"}, "hold")
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise InvalidInput("reason", "must be a string saying why")
        await self.pools.short(self.pq.hold_vendor, reason=reason, operator=caller.name)
        return json_answer(await self.pools.short(self.pq.health))

    async def release(self, request: Request, caller: Caller) -> Response:
        body = await read_json(request, empty_ok=True)
        parsing.only(body, {"operator"}, "release")
        await self.pools.short(self.pq.release_vendor, operator=caller.name)
        return json_answer(await self.pools.short(self.pq.health))
