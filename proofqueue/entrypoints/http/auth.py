"""Who is asking and what they may do: bearer tokens and roles, in front of each route.

``Caller`` is a token's name and role (or the local user under ``--insecure-local``).
``Gate.route`` wraps a handler: 401 without a valid ``Authorization: Bearer`` token, 403
when the role may not take the route's action, and the handler's refusals and the domain's
errors mapped to their JSON answers (``answers``). Cookies are never read.
"""

from __future__ import annotations

import functools
import getpass
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from proofqueue.api import ProofQueue
from proofqueue.domain.access import ALLOWED, Action, Principal
from proofqueue.domain.errors import ProofQueueError
from proofqueue.entrypoints.http.answers import Problem, error, status_of
from proofqueue.entrypoints.http.pools import Pools


@dataclass(frozen=True)
class Caller:
    """Who is asking: a token's name and what its role allows, or the local user in
    ``--insecure-local`` mode (everything allowed; the actor comes from the body)."""

    name: str
    role: str
    allowed: frozenset[Action]
    sees_all: bool
    local: bool = False

    @classmethod
    def of(cls, principal: Principal) -> Caller:
        return cls(
            principal.name,
            principal.role.value,
            ALLOWED[principal.role],
            principal.may(Action.READ_ANY_INTENT),
        )

    def sees(self, actor: str) -> bool:
        return self.sees_all or actor == self.name


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


class Gate:
    """The token and role checks of one app, and the error mapping around each handler."""

    def __init__(self, pq: ProofQueue, pools: Pools, *, insecure_local: bool) -> None:
        self.pq = pq
        self.pools = pools
        self.insecure_local = insecure_local
        self.local_name = login_name()

    async def caller(self, request: Request) -> Caller:
        header = request.headers.get("authorization")
        if header is None:
            if self.insecure_local:
                return Caller(self.local_name, "local", frozenset(Action), True, local=True)
            raise Problem(
                401,
                "missing access token: send Authorization: Bearer <token>"
                " (proofqueue token create)",
                {"WWW-Authenticate": "Bearer"},
            )
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        principal = None
        if scheme.lower() == "bearer" and token:
            principal = await self.pools.short(self.pq.authenticate, token)
        if principal is None:
            raise Problem(
                401,
                "invalid or revoked access token",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return Caller.of(principal)

    def route(
        self, action: Action | None, handler: Callable[[Request, Caller], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A handler behind the token check and ``action``'s role check, with errors mapped."""

        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                caller = await self.caller(request)
                if action is not None and action not in caller.allowed:
                    raise Problem(403, f"the {caller.role} role may not {action.value}")
                return await handler(request, caller)
            except Problem as exc:
                return error(exc.status, exc.message, exc.headers)
            except ProofQueueError as exc:
                return error(status_of(exc), str(exc))

        return endpoint
