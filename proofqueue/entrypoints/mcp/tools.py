"""The five tools, over one ProofQueue: each checks the caller's role, runs its blocking
store work in the shared thread pools (never on the event loop) and answers a typed result.

The caller is a ``Caller`` (``entrypoints.http.auth``): over HTTP the token's name and
role, over stdio the ``--actor`` with every role (the local user owns the store anyway).
The actor of a submit is always the caller's name, never an argument. An agent reads the
receipts of its own intents only; another actor's request_id is answered like an unknown
one. Every refusal is a ``ToolError`` of one line, which the client sees as a tool error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, JsonValue

from proofqueue.api import ProofQueue
from proofqueue.domain.access import Action
from proofqueue.domain.errors import IntentNotFound, ProofQueueError
from proofqueue.domain.intent import Status
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.pools import Pools
from proofqueue.entrypoints.mcp.checks import check_receipt
from proofqueue.entrypoints.mcp.results import (
    HealthResult,
    IntentList,
    ReceiptResult,
    SubmitResult,
    VerifyResult,
)

# The longest a submit_intent call waits for its intent to settle (as POST /intents).
MAX_WAIT_S = 60.0
MAX_LIMIT = 10_000

RequestId = Annotated[
    str,
    Field(
        description="your idempotency key: 1-255 printable ASCII characters, no spaces; one"
        " intent per request_id, forever (resubmitting it returns the same intent)"
    ),
]

CallerOf = Callable[[Context], Caller]


@contextmanager
def refusals() -> Iterator[None]:
    """proofqueue's own errors as a one-line ToolError (the client sees a tool error)."""
    try:
        yield
    except ProofQueueError as exc:
        raise ToolError(" ".join(str(exc).split())) from None


class Tools:
    """The tools of one MCP server over ``pq``; ``caller_of`` says who is calling."""

    def __init__(self, pq: ProofQueue, pools: Pools, caller_of: CallerOf) -> None:
        self.pq = pq
        self.pools = pools
        self.caller_of = caller_of

    def _caller(self, ctx: Context, action: Action | None) -> Caller:
        caller = self.caller_of(ctx)
        if action is not None and action not in caller.allowed:
            raise ToolError(f"the {caller.role} role may not {action.value}")
        return caller

    async def submit_intent(
        self,
        request_id: RequestId,
        target: Annotated[
            str, Field(description="what to buy: <provider>/<offering>, e.g. 0xabc/logo")
        ],
        ctx: Context,
        params: Annotated[
            dict[str, JsonValue] | None,
            Field(description="the job's requirements, a JSON object (stored sealed)"),
        ] = None,
        wait_s: Annotated[
            float,
            Field(ge=0, le=MAX_WAIT_S, description="seconds to wait for SETTLED or FAILED"),
        ] = 0.0,
    ) -> SubmitResult:
        """Record an intent to buy `target` from the vendor, once per request_id forever, and
        start buying it; wait up to wait_s seconds for it to settle. Safe to retry with the
        same request_id and arguments: it never buys twice. Answers the receipt (QUEUED or
        RETRYING while the vendor is down: proofqueue keeps trying; poll get_receipt)."""
        caller = self._caller(ctx, Action.SUBMIT)
        with refusals():
            receipt, new = await self.pools.submits(
                self.pq.record, request_id, actor=caller.name, target=target, params=params
            )
            receipt = await self.pools.drive(receipt, wait_s)
        result = ReceiptResult.of(receipt).model_dump()
        return SubmitResult(**result, new=new, final=receipt.is_final)

    async def get_receipt(self, request_id: RequestId, ctx: Context) -> ReceiptResult:
        """The public-safe receipt of one of your intents at its current status: final once
        SETTLED or FAILED, then with a tlog_proof once a signed checkpoint covers it."""
        caller = self._caller(ctx, Action.READ_OWN_RECEIPT)
        with refusals():
            found = await self.pools.short(self.pq.receipt, request_id)
            if not caller.sees(found.actor):
                raise IntentNotFound(request_id)  # the same answer as for an unknown id
        return ReceiptResult.of(found)

    async def verify_receipt(
        self,
        receipt: Annotated[
            dict[str, JsonValue],
            Field(description="a receipt as returned by get_receipt (with its tlog_proof)"),
        ],
        ctx: Context,
    ) -> VerifyResult:
        """Check a receipt offline, as `proofqueue verify-receipt` does: that it is a leaf of
        the transparency log under a checkpoint signed by this server's log key. Without a
        log key here, only the leaf and its inclusion are checked (signature_checked false).
        A receipt that fails a check is answered ok false, naming the check."""
        self._caller(ctx, None)
        signer = self.pq.parts.signer
        key = signer.verifier_key if signer is not None else None
        return await self.pools.short(check_receipt, receipt, key)

    async def vendor_health(self, ctx: Context) -> HealthResult:
        """The vendor's circuit breaker (OK, DEGRADED, RECOVERING), its failure ratio, any
        operator hold, and the backlog of intents waiting for it. While it is not OK, new
        intents are queued, not lost: proofqueue buys them once the vendor recovers."""
        caller = self._caller(ctx, Action.HEALTH)
        with refusals():
            view = await self.pools.short(self.pq.health)
        return HealthResult.of(view.seen_by(caller.sees_all))

    async def list_intents(
        self,
        ctx: Context,
        status: Annotated[
            list[Status] | Status | None,
            Field(description="only this status, or these statuses (default: every status)"),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="at most this many")] = 100,
    ) -> IntentList:
        """The operator list of intents, queued and retrying first, each with why it waits.
        Operators and auditors only."""
        self._caller(ctx, Action.LIST)
        wanted = [s.value for s in ([status] if isinstance(status, Status) else status or ())]
        with refusals():
            rows = await self.pools.short(self.pq.list, status=wanted, limit=limit)
        return IntentList.of(rows)
