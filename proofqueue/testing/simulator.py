"""A fault-injecting vendor for the ACP-shaped protocol: a Starlette app served by uvicorn.

Routes (answers as in the design's protocol table; errors are ``{"error": "..."}``):

    POST /acp/jobs                          create a job (honors the Idempotency-Key header)
    GET  /acp/jobs/{jobId}                  read a job; its phase moves on with elapsed time
    GET  /acp/jobs?clientRequestId=ID       the jobs created for a request id
    GET  /_sim/faults, POST /_sim/faults    read / change the fault settings at run time
    GET  /_sim/stats                        counts by outcome, jobs, duplicates
    GET  /_sim/healthz                      200 while serving

How a vendor call is handled, in this order (control routes skip all of it):

1. outage (``outage_now`` or inside an ``outage`` window): 500, nothing done;
2. the api key, when one is configured: 401;
3. ``no_lookup``: the lookup answers 404 as if the route did not exist;
4. one uniform draw ``u`` picks at most one fault. The rates are laid end to end in this
   order: ``rate_limit``, ``fail_before``, ``timeout_rate``, ``reset_rate``, ``fail_after``
   (creates only; reads skip it), ``slow_rate``; the fault is the slice ``u`` falls in. So each
   fault happens at exactly its rate and faults never stack (the rates may add up to 1 at most).
5. the call itself, shaped by the fault:
   - rate_limit: 429 with ``Retry-After``, nothing done;
   - fail_before: 500, nothing done;
   - timeout: the call is done (a create creates the job), then the answer waits
     ``hang_seconds`` (cut short when the server shuts down);
   - reset: the connection drops mid-answer; for a create, a coin decides whether the job was
     created first (outcome ``reset_after``) or not (``reset``);
   - fail_after (creates): the job is created (or the replay found), then 500;
   - slow: the right answer after ``slow_seconds``; a create holds its Idempotency-Key in flight
     during the wait, so the same key meanwhile gets 409.
   Faults that come after the call only apply when it succeeded; a 4xx is answered as is.

Stats outcome names (``GET /_sim/stats`` ``requests``), one per vendor call:
``outage``, ``rate_limited``, ``timeout``, ``reset``, ``reset_after``;
``create_201``, ``create_200_replay``, ``create_400``, ``create_401``, ``create_404``,
``create_409``, ``create_422``, ``create_500_before``, ``create_500_after``;
``get_200``, ``get_401``, ``get_404``, ``get_500``;
``lookup_200``, ``lookup_400``, ``lookup_401``, ``lookup_404``, ``lookup_500``.
A timed-out call is counted when its hang starts. ``jobs_per_request_id`` counts the jobs that
carry a clientRequestId; ``duplicates`` is the sum over request ids of (jobs - 1).

Public names: ``SimConfig``; ``Simulator(config, clock=...)`` whose ``app`` is the ASGI app (for
in-process tests); ``running_simulator(config)``, a context manager serving it on loopback from a
background thread and yielding the base URL; ``serve(config)``, the foreground server.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import random
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Annotated, Any, Literal

import httpx
import uvicorn
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

PHASES = ("REQUEST", "NEGOTIATION", "TRANSACTION", "EVALUATION")
Fate = Literal["COMPLETED", "REJECTED", "EXPIRED"]
Fault = Literal["rate_limited", "fail_before", "timeout", "reset", "fail_after", "slow"]

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0)]

# Settings that ``POST /_sim/faults`` may change; the rest are fixed at start.
FAULT_FIELDS = frozenset(
    {
        "fail_before",
        "fail_after",
        "timeout_rate",
        "hang_seconds",
        "reset_rate",
        "slow_rate",
        "slow_seconds",
        "rate_limit",
        "retry_after",
        "outage",
        "outage_now",
        "complete_after",
        "reject_rate",
        "expire_rate",
        "no_idempotency_key",
        "no_lookup",
        "offerings",
    }
)


class SimConfig(BaseModel):
    """The simulator's settings; field names are the CLI flags with underscores."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    host: str = "127.0.0.1"
    port: int = Field(default=8099, ge=0, le=65535)  # 0: any free port
    api_key: str | None = Field(default=None, repr=False)  # None: any key accepted
    fail_before: Rate = 0.0
    fail_after: Rate = 0.0
    timeout_rate: Rate = 0.0
    hang_seconds: Seconds = 30.0
    reset_rate: Rate = 0.0
    slow_rate: Rate = 0.0
    slow_seconds: Seconds = 0.0
    rate_limit: Rate = 0.0
    retry_after: Seconds = 1.0
    outage: tuple[tuple[float, float], ...] = ()  # (start, end) seconds from the start
    outage_now: bool = False
    complete_after: Seconds = 2.0
    reject_rate: Rate = 0.0
    expire_rate: Rate = 0.0
    no_idempotency_key: bool = False
    no_lookup: bool = False
    offerings: tuple[str, ...] = ()  # "provider/offering"; empty: any is accepted
    seed: int | None = None

    @field_validator("outage")
    @classmethod
    def _windows_are_ordered(
        cls, value: tuple[tuple[float, float], ...]
    ) -> tuple[tuple[float, float], ...]:
        for start, end in value:
            if start < 0 or end <= start:
                raise ValueError(f"outage window {start:g}:{end:g} needs 0 <= START < END")
        return value

    @field_validator("offerings")
    @classmethod
    def _offerings_name_both_parts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            provider, _, offering = item.partition("/")
            if not provider or not offering:
                raise ValueError(f"offering {item!r} is not PROVIDER/OFFERING")
        return value

    @model_validator(mode="after")
    def _rates_fit(self) -> SimConfig:
        faults = (
            self.rate_limit
            + self.fail_before
            + self.timeout_rate
            + self.reset_rate
            + self.fail_after
            + self.slow_rate
        )
        if faults > 1.0 + 1e-9:
            raise ValueError(
                "rate_limit + fail_before + timeout_rate + reset_rate + fail_after + slow_rate"
                f" add up to {faults:g}; at most 1 (faults never stack)"
            )
        if self.reject_rate + self.expire_rate > 1.0 + 1e-9:
            raise ValueError("reject_rate + expire_rate add up to more than 1")
        return self

    def public(self) -> dict[str, Any]:
        """The settings as JSON, without the api key."""
        data = self.model_dump(mode="json", exclude={"api_key"})
        data["api_key_set"] = self.api_key is not None
        return data


def validation_message(exc: ValidationError) -> str:
    """One line naming each bad field."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


class SimulatedReset(Exception):
    """Raised inside the app to make the server drop the connection mid-answer."""


@dataclass
class _Job:
    id: str
    provider: str
    offering: str
    request_id: str | None
    created_at: float
    done_at: float
    fate: Fate

    def phases(self, now: float) -> list[str]:
        """Every phase the job has entered by ``now``, the current one last."""
        if now >= self.done_at:
            return [*PHASES, self.fate]
        reached = int(4 * (now - self.created_at) / (self.done_at - self.created_at))
        return list(PHASES[: max(1, min(4, reached + 1))])

    def as_json(self, now: float) -> dict[str, Any]:
        phases = self.phases(now)
        deliverable = None
        if phases[-1] == "COMPLETED":
            number = self.id.removeprefix("job-")
            deliverable = {"id": f"dlv-{number}", "type": "text", "value": f"result of {self.id}"}
        return {
            "id": self.id,
            "phase": phases[-1],
            "deliverable": deliverable,
            "memos": [
                {"id": f"{self.id}-memo-{n}", "nextPhase": phase}
                for n, phase in enumerate(phases[1:], start=1)
            ],
            "clientRequestId": self.request_id,
            "providerWalletAddress": self.provider,
            "jobOfferingName": self.offering,
        }


@dataclass
class _KeyRecord:
    fingerprint: str
    job_id: str | None = None  # None: the first create with this key is still in flight


@dataclass(frozen=True)
class _Order:
    provider: str
    offering: str
    request_id: str | None
    fingerprint: str


class _DroppedConnection(Response):
    """Starts an answer, sends part of it, then makes the server drop the connection."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"data": ', "more_body": True})
        raise SimulatedReset("connection dropped by the vendor simulator")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Simulator:
    """The simulator's state and its ASGI ``app``. ``clock`` gives seconds (monotonic)."""

    def __init__(self, config: SimConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._started_at = clock()
        self._rng = random.Random(config.seed)  # noqa: S311 (fault injection, not security)
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._keys: dict[str, _KeyRecord] = {}
        self._counts: Counter[str] = Counter()
        self._job_numbers = itertools.count(1)
        self._closing = threading.Event()
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
        self._closing.set()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            per_request: Counter[str] = Counter(
                job.request_id for job in self._jobs.values() if job.request_id is not None
            )
            return {
                "requests": dict(sorted(self._counts.items())),
                "jobs": len(self._jobs),
                "duplicates": sum(n - 1 for n in per_request.values()),
                "jobs_per_request_id": dict(sorted(per_request.items())),
            }

    # ---- vendor routes ----

    async def _create(self, request: Request) -> Response:
        config = self._config
        refusal = self._refuse(request, config, "create")
        if refusal is not None:
            return refusal
        fault = self._draw(config, create=True)
        reset_first = fault == "reset" and self._coin()
        if fault == "rate_limited":
            return self._rate_limited(config)
        if fault == "fail_before":
            return self._answer("create_500_before", _error(500, "vendor error (before create)"))
        if fault == "reset" and not reset_first:
            return self._drop("reset")

        order_or_error = await self._read_order(request, config)
        if isinstance(order_or_error, Response):
            return order_or_error
        order = order_or_error
        key = None if config.no_idempotency_key else request.headers.get("idempotency-key")

        with self._lock:
            record = self._keys.get(key) if key else None
            if record is None and key:
                self._keys[key] = _KeyRecord(order.fingerprint)
        if record is not None:
            if record.fingerprint != order.fingerprint:
                msg = "Idempotency-Key reused with a different body"
                return self._answer("create_422", _error(422, msg))
            if record.job_id is None:
                msg = "a request with this Idempotency-Key is in flight"
                return self._answer("create_409", _error(409, msg))
            if fault == "slow":
                await self._pause(config.slow_seconds)
            status, job_id, outcome = 200, record.job_id, "create_200_replay"
        else:
            job_id = await self._make_job(order, key, config, slow=fault == "slow")
            status, outcome = 201, "create_201"

        if fault == "fail_after":
            return self._answer("create_500_after", _error(500, "vendor error (after create)"))
        if fault == "reset":
            return self._drop("reset_after")
        headers = {"Idempotent-Replayed": "true"} if status == 200 else None
        body = JSONResponse({"data": {"jobId": job_id}}, status_code=status, headers=headers)
        if fault == "timeout":
            self._count("timeout")  # now, not when the hang ends: stats show it at once
            await self._pause(config.hang_seconds)
            return body
        return self._answer(outcome, body)

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
        fault = self._draw(config, create=False)
        if fault == "rate_limited":
            return self._rate_limited(config)
        if fault == "fail_before":
            return self._answer(f"{call}_500", _error(500, "vendor error"))
        if fault == "reset":
            return self._drop("reset")
        if fault == "slow":
            await self._pause(config.slow_seconds)
        if fault == "timeout":
            self._count("timeout")
            await self._pause(config.hang_seconds)
            return answer(request)[1]
        outcome, response = answer(request)
        return self._answer(outcome, response)

    def _get_answer(self, request: Request) -> tuple[str, Response]:
        now = self._clock()
        with self._lock:
            job = self._jobs.get(request.path_params["job_id"])
            data = job.as_json(now) if job is not None else None
        if data is None:
            return "get_404", _error(404, "no such job")
        return "get_200", JSONResponse({"data": data})

    def _lookup_answer(self, request: Request) -> tuple[str, Response]:
        request_id = request.query_params.get("clientRequestId")
        if not request_id:
            return "lookup_400", _error(400, "the clientRequestId query parameter is required")
        now = self._clock()
        with self._lock:
            found = [j.as_json(now) for j in self._jobs.values() if j.request_id == request_id]
        return "lookup_200", JSONResponse({"data": found})

    # ---- control routes: never faulted ----

    async def _faults(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self._config.public())
        try:
            patch = json.loads(await request.body())
        except ValueError:
            return _error(400, "body must be a JSON object")
        if not isinstance(patch, dict):
            return _error(400, "body must be a JSON object")
        fixed = sorted(set(patch) - FAULT_FIELDS)
        if fixed:
            return _error(400, f"not settable at run time: {', '.join(fixed)}")
        with self._lock:
            merged = {**self._config.model_dump(), **patch}
            try:
                self._config = SimConfig.model_validate(merged)
            except ValidationError as exc:
                return _error(400, validation_message(exc))
            return JSONResponse(self._config.public())

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

    def _draw(self, config: SimConfig, *, create: bool) -> Fault | None:
        slices: tuple[tuple[Fault, float], ...] = (
            ("rate_limited", config.rate_limit),
            ("fail_before", config.fail_before),
            ("timeout", config.timeout_rate),
            ("reset", config.reset_rate),
            ("fail_after", config.fail_after if create else 0.0),
            ("slow", config.slow_rate),
        )
        with self._lock:
            u = self._rng.random()
        edge = 0.0
        for fault, rate in slices:
            edge += rate
            if u < edge:
                return fault
        return None

    def _coin(self) -> bool:
        with self._lock:
            return self._rng.random() < 0.5

    def _rate_limited(self, config: SimConfig) -> Response:
        headers = {"Retry-After": f"{config.retry_after:g}"}
        return self._answer("rate_limited", _error(429, "rate limited", headers))

    def _drop(self, outcome: str) -> Response:
        return self._answer(outcome, _DroppedConnection())

    def _answer(self, outcome: str, response: Response) -> Response:
        self._count(outcome)
        return response

    def _count(self, outcome: str) -> None:
        with self._lock:
            self._counts[outcome] += 1

    async def _read_order(self, request: Request, config: SimConfig) -> _Order | Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self._answer("create_400", _error(400, "body must be JSON"))
        problem = _order_problem(body)
        if problem is not None:
            return self._answer("create_400", _error(400, problem))
        provider, offering = body["providerWalletAddress"], body["jobOfferingName"]
        if config.offerings and f"{provider}/{offering}" not in config.offerings:
            return self._answer("create_404", _error(404, "unknown provider or offering"))
        fingerprint = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return _Order(provider, offering, body.get("clientRequestId"), fingerprint)

    async def _make_job(
        self, order: _Order, key: str | None, config: SimConfig, *, slow: bool
    ) -> str:
        created = False
        try:
            if slow:
                await self._pause(config.slow_seconds)
            now = self._clock()
            with self._lock:
                job_id = f"job-{next(self._job_numbers)}"
                self._jobs[job_id] = _Job(
                    job_id,
                    order.provider,
                    order.offering,
                    order.request_id,
                    created_at=now,
                    done_at=now + config.complete_after,
                    fate=self._fate(config),
                )
                if key:
                    self._keys[key].job_id = job_id
                created = True
            return job_id
        finally:
            if not created and key:  # cancelled while in flight: free the key
                with self._lock:
                    self._keys.pop(key, None)

    def _fate(self, config: SimConfig) -> Fate:
        u = self._rng.random()
        if u < config.reject_rate:
            return "REJECTED"
        if u < config.reject_rate + config.expire_rate:
            return "EXPIRED"
        return "COMPLETED"

    async def _pause(self, seconds: float) -> None:
        """Sleeps on the event loop clock; ends early when the simulator is closing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._closing.is_set():
            left = deadline - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.05))


def _order_problem(body: Any) -> str | None:
    """Why a create body is unacceptable (400), or None."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for name in ("providerWalletAddress", "jobOfferingName"):
        value = body.get(name)
        if not isinstance(value, str) or not value:
            return f"{name} must be a non-empty string"
    if not isinstance(body.get("serviceRequirements"), dict):
        return "serviceRequirements must be an object"
    request_id = body.get("clientRequestId")
    if request_id is not None and (not isinstance(request_id, str) or not request_id):
        return "clientRequestId must be a non-empty string"
    if not isinstance(body.get("isAutomated", True), bool):
        return "isAutomated must be a boolean"
    return None


# ---- serving ----


class _HideInjectedResets(logging.Filter):
    """Keeps uvicorn from logging a traceback for each connection the simulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedReset))


def _quiet_injected_resets() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideInjectedResets) for f in logger.filters):
        logger.addFilter(_HideInjectedResets())


class _Server(uvicorn.Server):
    """uvicorn, ending the simulator's hangs first so that shutdown does not wait for them."""

    def __init__(self, simulator: Simulator, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.simulator = simulator

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.simulator.close()
        super().handle_exit(sig, frame)


def _server(simulator: Simulator, **options: Any) -> _Server:
    config = uvicorn.Config(
        simulator.app,
        lifespan="off",
        http="h11",
        loop="asyncio",
        access_log=False,
        timeout_graceful_shutdown=2,
        **options,
    )
    _quiet_injected_resets()
    return _Server(simulator, config)


def _bind(host: str, port: int) -> tuple[socket.socket, str]:
    """A listening socket and the base URL that reaches it."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return sock, f"http://{shown}:{bound_port}"


def _wait_until_up(base_url: str, thread: threading.Thread, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise RuntimeError("vendor simulator stopped while starting")
            try:
                if client.get(f"{base_url}/_sim/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"vendor simulator did not answer at {base_url} within {timeout:g} s")


@contextlib.contextmanager
def running_simulator(
    config: SimConfig, *, clock: Callable[[], float] = time.monotonic
) -> Iterator[str]:
    """Serves the simulator from a background thread; yields its base URL; stops it on exit.

    ``config.port`` 0 picks a free port.
    """
    simulator = Simulator(config, clock=clock)
    sock, base_url = _bind(config.host, config.port)
    server = _server(simulator, log_config=None, log_level="warning")
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported by the caller's thread, not lost in this one
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"vendor-sim {base_url}", daemon=True)
    thread.start()
    try:
        try:
            _wait_until_up(base_url, thread)
        except RuntimeError as exc:
            if failure:
                raise RuntimeError(f"vendor simulator failed to start: {failure[0]!r}") from None
            raise exc from None
        yield base_url
    finally:
        simulator.close()
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        sock.close()


def serve(config: SimConfig, *, announce: Callable[[str], None] | None = None) -> None:
    """Serves the simulator in the foreground until SIGINT or SIGTERM.

    ``announce`` gets the base URL once the port is listening (port 0 picks a free one).
    """
    simulator = Simulator(config)
    sock, base_url = _bind(config.host, config.port)
    server = _server(simulator, log_level="warning")

    def stop(sig: int, frame: FrameType | None) -> None:
        """Stops the server, even before uvicorn has put in its own handlers.

        uvicorn also re-raises the signal that stopped it once it is done: it ends here.
        """
        simulator.close()
        server.should_exit = True

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, stop) for sig in handled}
    try:
        if announce is not None:
            announce(base_url)
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
