"""The console's routes as the OpenAPI description lists them (HTML, not JSON)."""

from __future__ import annotations

from typing import Any

_HTML = {
    "description": "an HTML fragment",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
_REFUSED = {"description": 'refused (JSON {"error"})'}


def _fragment(summary: str, roles: str, method: str = "get") -> dict[str, Any]:
    return {
        method: {
            "summary": summary,
            "description": f"Web console. Roles: {roles}.",
            "tags": ["console"],
            "security": [{"bearer": []}],
            "responses": {"200": _HTML, "400": _REFUSED, "401": _REFUSED, "403": _REFUSED},
        }
    }


CONSOLE_PATHS: dict[str, Any] = {
    "/console": {
        "get": {
            "summary": "The web console's page (holds no data; asks for a token)",
            "tags": ["console"],
            "security": [],
            "responses": {"200": _HTML},
        }
    },
    "/console/p/whoami": _fragment("The token's name and role", "operator, auditor"),
    "/console/p/controls": _fragment("Hold and release (operators)", "operator, auditor"),
    "/console/p/breaker": _fragment(
        "The breaker, its live window and timeline", "operator, auditor"
    ),
    "/console/p/workers": _fragment("The workers and their liveness", "operator, auditor"),
    "/console/p/intents": _fragment("The operator list, filtered and paged", "operator, auditor"),
    "/console/p/intent": _fragment("One intent: trail, verification, receipt", "operator, auditor"),
    "/console/p/cancel-form": _fragment("The form to cancel one intent", "operator"),
    "/console/a/retry": _fragment("Retry (or reopen) one intent", "operator", "post"),
    "/console/a/cancel": _fragment("Cancel one intent with a reason", "operator", "post"),
    "/console/a/hold": _fragment("Hold the vendor", "operator", "post"),
    "/console/a/release": _fragment("Release the vendor", "operator", "post"),
    "/console/a/bulk-preview": _fragment("Count what a bulk action matches", "operator", "post"),
    "/console/a/bulk": _fragment("Act on exactly the confirmed set", "operator", "post"),
}
