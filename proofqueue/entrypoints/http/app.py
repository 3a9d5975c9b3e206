"""The ASGI application: ``create_app`` puts the routes together behind the guard, and
``close_app`` stops its thread pools. ``Api`` holds the handler groups of one app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from proofqueue.api import ProofQueue
from proofqueue.domain.access import Action
from proofqueue.entrypoints.http.actions import OperatorRoutes
from proofqueue.entrypoints.http.answers import http_error
from proofqueue.entrypoints.http.audit import AuditRoutes
from proofqueue.entrypoints.http.auth import Gate
from proofqueue.entrypoints.http.guard import Guard
from proofqueue.entrypoints.http.hosts import allowed_hosts
from proofqueue.entrypoints.http.intents import IntentRoutes
from proofqueue.entrypoints.http.metrics import MetricsRoute
from proofqueue.entrypoints.http.pools import Pools
from proofqueue.entrypoints.http.status import StatusRoutes
from proofqueue.entrypoints.mcp.mount import PATH as MCP_PATH
from proofqueue.entrypoints.mcp.mount import McpMount


class Api:
    """The routes over one ProofQueue, grouped by concern, with the gate and the thread
    pools they share."""

    def __init__(self, pq: ProofQueue, *, insecure_local: bool) -> None:
        self.pq = pq
        self.pools = Pools(pq)
        self.gate = Gate(pq, self.pools, insecure_local=insecure_local)
        self.intents = IntentRoutes(pq, self.pools)
        self.operator = OperatorRoutes(pq, self.pools)
        self.audit = AuditRoutes(pq, self.pools)
        self.status = StatusRoutes(pq, self.pools)
        self.metrics = MetricsRoute(pq, self.pools)

    def close(self) -> None:
        """Stop the thread pools (see ``Pools.close``)."""
        self.pools.close()

    def routes(self) -> list[BaseRoute]:
        # Imported here: the console's modules import this package's (gate, pools, parsing).
        from proofqueue.entrypoints.console.routes import console_routes

        r = self.gate.route
        intents, operator, audit, status = self.intents, self.operator, self.audit, self.status
        return [
            Route("/openapi.json", status.openapi, methods=["GET"]),
            Route("/tlog/checkpoint", status.checkpoint, methods=["GET"]),
            Route("/intents", r(Action.SUBMIT, intents.submit), methods=["POST"]),
            Route("/intents", r(Action.LIST, intents.intents), methods=["GET"]),
            Route(
                "/intents/{request_id:path}/receipt",
                r(Action.READ_OWN_RECEIPT, intents.receipt),
                methods=["GET"],
            ),
            Route(
                "/intents/{request_id:path}/retry",
                r(Action.RETRY, operator.retry),
                methods=["POST"],
            ),
            Route(
                "/intents/{request_id:path}/cancel",
                r(Action.CANCEL, operator.cancel),
                methods=["POST"],
            ),
            Route(
                "/intents/{request_id:path}",
                r(Action.READ_ANY_INTENT, intents.show),
                methods=["GET"],
            ),
            Route("/vendor/hold", r(Action.HOLD, operator.hold), methods=["POST"]),
            Route("/vendor/release", r(Action.HOLD, operator.release), methods=["POST"]),
            Route("/health", r(Action.HEALTH, status.health), methods=["GET"]),
            Route("/workers", r(Action.LIST, status.workers), methods=["GET"]),
            Route("/verify", r(Action.VERIFY, audit.verify), methods=["GET"]),
            Route("/replay", r(Action.REPLAY, audit.replay), methods=["GET"]),
            Route("/metrics", r(Action.LIST, self.metrics.metrics), methods=["GET"]),
            *console_routes(self.pq, self.pools, self.gate),
        ]


def create_app(
    pq: ProofQueue,
    *,
    host: str = "127.0.0.1",
    allowed_host: tuple[str, ...] = (),
    insecure_local: bool = False,
) -> Starlette:
    """The ASGI application over one ProofQueue, served on ``host``.

    ``allowed_host`` adds names a request's Host may carry (loopback names and ``host`` are
    always allowed). ``insecure_local`` lets requests without a token act as the local
    user, with every role; ``serve`` allows it on loopback only. Call ``close_app`` when the
    server has stopped."""
    api = Api(pq, insecure_local=insecure_local)
    mcp = McpMount(pq, api.pools, api.gate)  # MCP (streamable HTTP), the same tokens
    app = Starlette(
        routes=[*api.routes(), Route(MCP_PATH, mcp, methods=["POST"])],
        lifespan=mcp.lifespan,
        middleware=[Middleware(Guard, hosts=allowed_hosts(host, allowed_host))],
        exception_handlers={HTTPException: http_error},
    )
    app.state.api = api
    return app


def close_app(app: Starlette) -> None:
    """Stop the app's thread pools (after the server has stopped)."""
    api: Api = app.state.api
    api.close()
