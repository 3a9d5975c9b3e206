"""MCP calls as an outside agent makes them (found by the outside audit): design.md names
the tool ``list_intents(status, limit)``, and an agent passes one status as a string."""

from __future__ import annotations

from tests.integration.test_mcp_tools import OPERATOR, ORDER, Shop, shop

__all__ = ["shop"]  # the fixture


def test_list_intents_takes_one_status_as_a_string(shop: Shop) -> None:
    shop.ok(OPERATOR, "submit_intent", request_id="o-1", **ORDER)
    shop.bought("o-1")
    shop.pq.record("o-2", actor="alice", target="0xabc/logo", params={})

    listed = shop.ok(OPERATOR, "list_intents", status="SUBMITTED", limit=5)
    assert [row["request_id"] for row in listed["intents"]] == ["o-1"]
    assert shop.ok(OPERATOR, "list_intents", status="QUEUED")["count"] == 1
    assert "status" in shop.refused(OPERATOR, "list_intents", status="DONE")
