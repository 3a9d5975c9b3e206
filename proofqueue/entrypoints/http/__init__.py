"""The HTTP API (``proofqueue serve``): the CLI's use cases over JSON, behind access tokens.

    route                               who (role)                   answers
    POST /intents                       agent, operator              receipt, 201 (200 if known)
    GET  /intents/{id}/receipt          agent (own), operator, auditor   receipt
    GET  /intents?status=&actor=&target=&older_than=&limit=&offset=  (or &cursor=: X-Next-Cursor)
                                        operator, auditor            the operator list
    GET  /intents/{id}                  operator, auditor            the trail (``show --json``)
    POST /intents/{id}/retry            operator                     receipt
    POST /intents/{id}/cancel           operator                     receipt ({"reason"})
    POST /vendor/hold                   operator                     health ({"reason"})
    POST /vendor/release                operator                     health
    GET  /health                        every role                   the breaker health view
    GET  /workers                       operator, auditor            the workers' heartbeats
    GET  /verify[?request_id=...]       auditor                      proof chains
    GET  /replay[?check=true][&as_of=T] auditor                      replay report
    GET  /tlog/checkpoint               anyone                       the latest signed checkpoint
    GET  /openapi.json                  anyone                       this description
    GET  /metrics                       operator, auditor            Prometheus text (``metrics``)
    GET  /console, /console/...         see ``proofqueue.entrypoints.console``: the web console

Every request but ``/openapi.json`` and ``/tlog/checkpoint`` carries ``Authorization:
Bearer <token>`` (``proofqueue token create``); 401 without a valid one, 403 when the role
may not. The actor of a submit and the operator recorded for a retry or cancel is the
token's name, never a value from the body. Requests whose Host is not served here or whose
Origin is not the server's own are refused with 403 before any handler runs (``hosts``,
``guard``); cookies are never read and no CORS header is ever sent. POST bodies must be
``application/json`` (415), at most 256 KiB (413). Errors are always ``{"error": "..."}``:
400 names the bad input, 404 an unknown id or route, 405 a wrong method, 409 a refusal,
500 ``internal error`` (logged, never a traceback in the answer).

Nothing blocks the event loop: short store calls run through ``anyio.to_thread``; calls
that may wait on the vendor run in a bounded pool of their own (``Settings.concurrency``
threads) that a request never waits for. A submit's ``wait`` (0-60 s) is an upper bound,
spent polling the receipt with ``asyncio.sleep``.

The modules: ``app`` (``create_app``, ``close_app``, the route table), ``hosts`` and
``guard`` (the Host/Origin rules and the middleware applying them), ``auth`` (tokens and
roles), ``parsing`` (bodies and parameters, with their limits), ``answers`` (JSON answers
and the error mapping), ``pools`` (the threads blocking work runs in), the handlers by
concern (``intents``, ``actions``, ``audit``, ``status``) and ``openapi`` (the
description).
"""

from proofqueue.entrypoints.http.app import Api, close_app, create_app
from proofqueue.entrypoints.http.openapi import OPENAPI

__all__ = ["OPENAPI", "Api", "close_app", "create_app"]
