"""The console's route table (see the package's description)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from proofqueue.api import ProofQueue
from proofqueue.domain.access import Action
from proofqueue.entrypoints.console.acts import ConsoleActs
from proofqueue.entrypoints.console.pages import ConsolePages
from proofqueue.entrypoints.http.auth import Gate
from proofqueue.entrypoints.http.pools import Pools


def console_routes(pq: ProofQueue, pools: Pools, gate: Gate) -> list[BaseRoute]:
    """The console's routes, behind ``gate``'s token and role checks."""
    pages, acts, r = ConsolePages(pq, pools), ConsoleActs(pq, pools), gate.route
    see = Action.LIST
    return [
        Route("/console", pages.shell, methods=["GET"]),
        Mount(
            "/console/static",
            StaticFiles(packages=[("proofqueue.entrypoints.console", "static")]),
        ),
        Route("/console/p/whoami", r(see, pages.whoami), methods=["GET"]),
        Route("/console/p/controls", r(see, pages.controls), methods=["GET"]),
        Route("/console/p/breaker", r(see, pages.breaker), methods=["GET"]),
        Route("/console/p/workers", r(see, pages.workers), methods=["GET"]),
        Route("/console/p/intents", r(see, pages.intents), methods=["GET"]),
        Route("/console/p/intent", r(see, pages.intent), methods=["GET"]),
        Route("/console/p/cancel-form", r(Action.CANCEL, acts.cancel_form), methods=["GET"]),
        Route("/console/a/retry", r(Action.RETRY, acts.retry), methods=["POST"]),
        Route("/console/a/cancel", r(Action.CANCEL, acts.cancel), methods=["POST"]),
        Route("/console/a/hold", r(Action.HOLD, acts.hold), methods=["POST"]),
        Route("/console/a/release", r(Action.HOLD, acts.release), methods=["POST"]),
        Route("/console/a/bulk-preview", r(see, acts.preview), methods=["POST"]),
        Route("/console/a/bulk", r(see, acts.bulk), methods=["POST"]),
    ]
