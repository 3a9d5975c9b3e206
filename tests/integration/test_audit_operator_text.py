"""An operator's reason and name reach the trail and every operator's terminal (``list``,
``show``): terminal control sequences in them are refused, nothing written (found by the
outside audit: ``cancel --reason $'x\\e[2J'`` cleared the screen of whoever ran ``list``)."""

from __future__ import annotations

import pytest

from proofqueue import InvalidInput
from tests.integration.helpers import log_counts, open_queue

HOSTILE = ["x\x1b[2J", "x\x1b]0;owned\x07", "x\x00y", "x\x9b31m", "x\x7f", "x\ud800", "x\u202ey"]


@pytest.mark.parametrize("reason", HOSTILE)
def test_a_reason_with_control_characters_is_refused_and_nothing_written(
    sqlite_store: str, reason: str
) -> None:
    with open_queue(sqlite_store) as pq:
        pq.record("c-1", actor="agent-7", target="0xP/logo", params={})
        before = log_counts(sqlite_store)
        with pytest.raises(InvalidInput, match="reason"):
            pq.cancel("c-1", reason=reason, operator="alice")
        assert log_counts(sqlite_store) == before
        pq.cancel("c-1", reason="line one\nline two\tand a tab", operator="alice")
        assert pq.receipt("c-1").status == "FAILED"


@pytest.mark.parametrize("operator", ["alice\x1b[2J", "alice\nbob", "al\x00ice"])
def test_an_operator_name_with_control_characters_is_refused(
    sqlite_store: str, operator: str
) -> None:
    with open_queue(sqlite_store) as pq:
        pq.record("c-1", actor="agent-7", target="0xP/logo", params={})
        with pytest.raises(InvalidInput, match="operator"):
            pq.cancel("c-1", reason="no longer needed", operator=operator)
        assert pq.receipt("c-1").status == "QUEUED"
