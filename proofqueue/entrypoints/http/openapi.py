"""The OpenAPI 3.1 description of the HTTP API, served at ``GET /openapi.json``: ``OPENAPI``.

A plain dict built once at import; its limits (``wait``, ``limit``, ``offset``) are the
ones ``parsing`` enforces.
"""

from __future__ import annotations

from typing import Any

from proofqueue.entrypoints.console.described import CONSOLE_PATHS
from proofqueue.entrypoints.http.parsing import MAX_LIMIT, MAX_OFFSET, MAX_WAIT_S

_ERROR = {
    "description": "an error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            }
        }
    },
}
_RECEIPT = {"$ref": "#/components/schemas/Receipt"}
_ID = {
    "name": "request_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
}


def _op(summary: str, roles: str, ok: dict[str, Any], **extra: Any) -> dict[str, Any]:
    responses: dict[str, Any] = {**ok}
    for code in ("400", "401", "403", "404"):
        responses[code] = _ERROR
    return {
        "summary": summary,
        "description": f"Roles: {roles}.",
        "security": [{"bearer": []}],
        "responses": responses,
        **extra,
    }


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _q(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


_JSON_BODY = {"415": _ERROR, "413": _ERROR, "409": _ERROR}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "proofqueue", "version": "1"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Receipt": {
                "type": "object",
                "properties": {
                    name: {"type": ["string", "null"]}
                    for name in (
                        "request_id",
                        "actor",
                        "target",
                        "status",
                        "job_id",
                        "deliverable_id",
                        "queued_at",
                        "settled_at",
                        "proof",
                    )
                }
                | {"attempts": {"type": "integer"}},
            },
        },
    },
    "paths": {
        "/intents": {
            "post": _op(
                "Record an intent (idempotent per request_id) and buy it; the actor is the"
                " token's name",
                "agent, operator",
                {
                    "201": _answer("recorded now", _RECEIPT),
                    "200": _answer("the same request was already recorded", _RECEIPT),
                    **_JSON_BODY,
                },
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["request_id", "target"],
                                "additionalProperties": False,
                                "properties": {
                                    "request_id": {"type": "string"},
                                    "target": {"type": "string"},
                                    "params": {"type": "object"},
                                    "actor": {
                                        "type": "string",
                                        "description": "optional; must equal the token's name",
                                    },
                                    "wait": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_S},
                                },
                            }
                        }
                    },
                },
            ),
            "get": _op(
                "The operator list, queued and retrying first",
                "operator, auditor",
                {"200": _answer("list rows", {"type": "array", "items": {"type": "object"}})},
                parameters=[
                    _q("status", {"type": "string", "description": "comma-separated"}),
                    _q("actor", {"type": "string"}),
                    _q("target", {"type": "string"}),
                    _q("older_than", {"type": "number", "minimum": 0}),
                    _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
                    _q("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}),
                    _q(
                        "cursor",
                        {
                            "type": "string",
                            "description": "keyset paging: 'start', then the X-Next-Cursor"
                            " header of the previous page",
                        },
                    ),
                ],
            ),
        },
        "/intents/{request_id}": {
            "get": _op(
                "The whole trail, sanitized",
                "operator, auditor",
                {"200": _answer("the trail", {"type": "object"})},
                parameters=[_ID],
            )
        },
        "/intents/{request_id}/receipt": {
            "get": _op(
                "The public-safe receipt (an agent sees its own intents only)",
                "agent (own), operator, auditor",
                {"200": _answer("the receipt", _RECEIPT)},
                parameters=[_ID],
            )
        },
        "/intents/{request_id}/retry": {
            "post": _op(
                "Attempt now with the budget re-armed; recorded with the token's name",
                "operator",
                {"200": _answer("the receipt", _RECEIPT), **_JSON_BODY},
                parameters=[_ID],
            )
        },
        "/intents/{request_id}/cancel": {
            "post": _op(
                "Fail an intent the vendor holds no job for; recorded with the token's name",
                "operator",
                {"200": _answer("the receipt", _RECEIPT), **_JSON_BODY},
                parameters=[_ID],
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["reason"],
                                "properties": {"reason": {"type": "string", "maxLength": 500}},
                            }
                        }
                    },
                },
            )
        },
        "/vendor/hold": {
            "post": _op(
                "Hold every call to the vendor until released; recorded with the token's name",
                "operator",
                {"200": _answer("health", {"type": "object"}), **_JSON_BODY},
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["reason"],
                                "properties": {"reason": {"type": "string", "maxLength": 500}},
                            }
                        }
                    },
                },
            )
        },
        "/vendor/release": {
            "post": _op(
                "End the hold on the vendor; recorded with the token's name",
                "operator",
                {"200": _answer("health", {"type": "object"}), **_JSON_BODY},
            )
        },
        "/workers": {
            "get": _op(
                "The workers on this store and whether each is alive",
                "operator, auditor",
                {"200": _answer("worker rows", {"type": "array", "items": {"type": "object"}})},
            )
        },
        "/health": {
            "get": _op(
                "The breaker health view",
                "agent, operator, auditor",
                {"200": _answer("health", {"type": "object"})},
            )
        },
        "/verify": {
            "get": _op(
                "Recompute proof chains (of the given ids, or of the whole log)",
                "auditor",
                {"200": _answer("verify report", {"type": "object"})},
                parameters=[_q("request_id", {"type": "string"})],
            )
        },
        "/replay": {
            "get": _op(
                "Rebuild every view from the log into a fresh store",
                "auditor",
                {"200": _answer("replay report", {"type": "object"})},
                parameters=[
                    _q("check", {"type": "boolean"}),
                    _q("as_of", {"type": "string", "format": "date-time"}),
                ],
            )
        },
        "/tlog/checkpoint": {
            "get": {
                "summary": "The latest signed checkpoint (c2sp.org/tlog-checkpoint, text/plain)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "a signed note",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "404": _answer("none signed yet", {"type": "object"}),
                },
            }
        },
        "/mcp": {
            "post": _op(
                "Model Context Protocol, streamable HTTP (JSON answers): the agents' tools",
                "every role; each tool checks its own (list_intents: operator, auditor)",
                {"200": _answer("a JSON-RPC answer", {"type": "object"})},
            )
        },
        "/openapi.json": {
            "get": {
                "summary": "This description",
                "security": [],
                "responses": {"200": _answer("OpenAPI 3.1", {"type": "object"})},
            }
        },
        "/metrics": {
            "get": _op(
                "Prometheus text (exposition format 0.0.4), computed from the views",
                "operator, auditor",
                {
                    "200": {
                        "description": "metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            )
        },
        **CONSOLE_PATHS,
    },
}
