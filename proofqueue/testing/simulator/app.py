"""The simulator's ASGI app: ``Simulator``, its routes, and how a vendor call is handled
(the refusals, then the fault drawn shaping the call) over the ledger and the dice."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .config import SimConfig, changed_config
from .faults import Dice, Dripping, DroppedConnection, Pauses, bad_job_id, oversized
from .jobs import Ledger, Order, read_order


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Simulator:
    """The simulator's state and its ASGI ``app``. ``clock`` gives seconds (monotonic)."""

    def __init__(self, config: SimConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._started_at = clock()
        self._dice = Dice(config.seed)
        self._ledger = Ledger()
        self._lock = threading.Lock()  # for changing the config at run time
        self._pauses = Pauses()
        self.app = Starlette(
            routes=[
                Route("/acp/jobs", self._create, methods=["POST"]),
                Route("/acp/jobs", self._lookup, methods=["GET"]),
                Route("/acp/jobs/{job_id}", self._get, methods=["GET"]),
                Route("/_sim/faults", self._faults, methods=["GET", "POST"]),
                Route("/_sim/stats", self._stats, methods=["GET"]),
                Route("/_sim/healthz", self._healthz, methods=["GET"]),
            ]
        )

    @property
    def config(self) -> SimConfig:
        return self._config

    def close(self) -> None:
        """Ends every pending hang or delay now: the server is shutting down."""
        self._pauses.close()

    def stats(self) -> dict[str, Any]:
        return self._ledger.stats()

    # ---- vendor routes ----

    async def _create(self, request: Request) -> Response:
        config = self._config
        refusal = self._refuse(request, config, "create")
        if refusal is not None:
            return refusal
        fault = self._dice.draw(config, create=True)
        reset_first = fault == "reset" and self._dice.coin()
        if fault == "rate_limited":
            return self._rate_limited(config)
        if fault == "fail_before":
            return self._answer("create_500_before", _error(500, "vendor error (before create)"))
        if fault == "reset" and not reset_first:
            return self._drop("reset")

        order = read_order(await request.body(), config.offerings)
        if isinstance(order, tuple):  # 400 or 404
            code, problem = order
            return self._answer(f"create_{code}", _error(code, problem))
        key = None if config.no_idempotency_key else request.headers.get("idempotency-key")

        record = self._ledger.claim_key(key, order.fingerprint)
        if record is not None:
            if record.fingerprint != order.fingerprint:
                msg = "Idempotency-Key reused with a different body"
                return self._answer("create_422", _error(422, msg))
            if record.job_id is None:
                msg = "a request with this Idempotency-Key is in flight"
                return self._answer("create_409", _error(409, msg))
            if fault == "slow":
                await self._pauses.pause(config.slow_seconds)
            status, job_id, outcome = 200, record.job_id, "create_200_replay"
        else:
            job_id = await self._make_job(order, key, config, slow=fault == "slow")
            status, outcome = 201, "create_201"

        if fault == "fail_after":
            return self._answer("create_500_after", _error(500, "vendor error (after create)"))
        if fault == "reset":
            return self._drop("reset_after")
        if fault == "redirect_after":  # the job is made; the answer only points elsewhere
            where = {"Location": f"/acp/jobs/{job_id}"}
            return self._answer("create_303_after", Response(status_code=303, headers=where))
        if fault == "bad_job_id":
            job_id = bad_job_id(huge=self._dice.coin())
            outcome = "create_bad_id_after"
        headers = {"Idempotent-Replayed": "true"} if status == 200 else None
        body = JSONResponse({"data": {"jobId": job_id}}, status_code=status, headers=headers)
        if fault == "timeout":
            self._ledger.count("timeout")  # now, not when the hang ends: stats show it at once
            await self._pauses.pause(config.hang_seconds)
            return body
        return self._shaped(fault, outcome, body, config)

    async def _get(self, request: Request) -> Response:
        return await self._read(request, "get", self._get_answer)

    async def _lookup(self, request: Request) -> Response:
        return await self._read(request, "lookup", self._lookup_answer)

    async def _read(
        self,
        request: Request,
        call: Literal["get", "lookup"],
        answer: Callable[[Request], tuple[str, Response]],
    ) -> Response:
        config = self._config
        refusal = self._refuse(request, config, call)
        if refusal is not None:
            return refusal
        fault = self._dice.draw(config, create=False)
        if fault == "rate_limited":
            return self._rate_limited(config)
        if fault == "fail_before":
            return self._answer(f"{call}_500", _error(500, "vendor error"))
        if fault == "reset":
            return self._drop("reset")
        if fault == "slow":
            await self._pauses.pause(config.slow_seconds)
        if fault == "timeout":
            self._ledger.count("timeout")
            await self._pauses.pause(config.hang_seconds)
            return answer(request)[1]
        outcome, response = answer(request)
        return self._shaped(fault, outcome, response, config)

    def _shaped(
        self, fault: str | None, outcome: str, response: Response, config: SimConfig
    ) -> Response:
        """The answer as the fault shapes its body: never finishing, or oversized."""
        if fault == "drip":
            return self._answer("drip", Dripping(config.hang_seconds, self._pauses))
        if fault == "oversized":
            body = oversized(bytes(response.body))
            big = Response(body, status_code=response.status_code, media_type="application/json")
            return self._answer("oversized", big)
        return self._answer(outcome, response)

    def _get_answer(self, request: Request) -> tuple[str, Response]:
        data = self._ledger.job(request.path_params["job_id"], self._clock())
        if data is None:
            return "get_404", _error(404, "no such job")
        if data["phase"] == "COMPLETED" and self._dice.chance(self._config.no_deliverable_rate):
            return "get_no_deliverable", JSONResponse({"data": {**data, "deliverable": None}})
        return "get_200", JSONResponse({"data": data})

    def _lookup_answer(self, request: Request) -> tuple[str, Response]:
        request_id = request.query_params.get("clientRequestId")
        if not request_id:
            return "lookup_400", _error(400, "the clientRequestId query parameter is required")
        found = self._ledger.jobs_of(request_id, self._clock())
        return "lookup_200", JSONResponse({"data": found})

    # ---- control routes: never faulted ----

    async def _faults(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self._config.public())
        raw = await request.body()
        with self._lock:
            changed = changed_config(self._config, raw)
            if isinstance(changed, str):
                return _error(400, changed)
            self._config = changed
            return JSONResponse(changed.public())

    async def _stats(self, request: Request) -> Response:
        return JSONResponse(self.stats())

    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    # ---- the pieces ----

    def _refuse(self, request: Request, config: SimConfig, call: str) -> Response | None:
        """Outage, bad api key, missing lookup route: the answers given before any fault."""
        elapsed = self._clock() - self._started_at
        if config.outage_now or any(start <= elapsed < end for start, end in config.outage):
            return self._answer("outage", _error(500, "vendor outage"))
        if config.api_key is not None:
            given = request.headers.get("x-api-key", "").encode()
            if not hmac.compare_digest(given, config.api_key.encode()):
                return self._answer(f"{call}_401", _error(401, "invalid or missing api key"))
        if call == "lookup" and config.no_lookup:
            return self._answer("lookup_404", _error(404, "Not Found"))
        return None

    def _rate_limited(self, config: SimConfig) -> Response:
        headers = {"Retry-After": f"{config.retry_after:g}"}
        return self._answer("rate_limited", _error(429, "rate limited", headers))

    def _drop(self, outcome: str) -> Response:
        return self._answer(outcome, DroppedConnection())

    def _answer(self, outcome: str, response: Response) -> Response:
        self._ledger.count(outcome)
        return response

    async def _make_job(
        self, order: Order, key: str | None, config: SimConfig, *, slow: bool
    ) -> str:
        created = False
        try:
            if slow:
                await self._pauses.pause(config.slow_seconds)
            now = self._clock()
            job_id = self._ledger.add_job(
                order,
                key,
                created_at=now,
                done_at=now + config.complete_after,
                fate=lambda: self._dice.fate(config),
            )
            created = True
            return job_id
        finally:
            if not created and key:  # cancelled while in flight: free the key
                self._ledger.release_key(key)
