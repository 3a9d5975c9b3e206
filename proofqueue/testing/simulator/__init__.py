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

The package: ``config`` (the settings and the names of phases, fates and faults), ``jobs``
(jobs, Idempotency-Keys, orders and the ledger that counts them), ``faults`` (the seeded dice
and how faults act), ``app`` (``Simulator``: the routes and the handling above) and ``server``
(uvicorn: ``running_simulator``, ``serve``).
"""

from .app import Simulator
from .config import (
    FAULT_FIELDS,
    PHASES,
    Fate,
    Fault,
    Rate,
    Seconds,
    SimConfig,
    validation_message,
)
from .faults import SimulatedReset
from .server import running_simulator, serve

__all__ = [
    "FAULT_FIELDS",
    "PHASES",
    "Fate",
    "Fault",
    "Rate",
    "Seconds",
    "SimConfig",
    "SimulatedReset",
    "Simulator",
    "running_simulator",
    "serve",
    "validation_message",
]
