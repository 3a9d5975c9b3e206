"""The TransparencyLog aggregate: checkpoints are chained events, and one that would shrink
the tree or fork it (same size, another root) is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from proofqueue.domain.chained import event_fields, iso
from proofqueue.domain.proof import ChainLink, first_break
from proofqueue.domain.transparency_log import (
    CheckpointRefused,
    TransparencyLog,
    transparency_log_id,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_checkpoints_are_recorded_in_order_and_chained() -> None:
    log = TransparencyLog.start("example.com/log", T0)
    assert log.id == transparency_log_id("example.com/log")
    log.record(size=1, root="r1", note="n1", now=T0 + timedelta(seconds=1))
    log.record(size=1, root="r1", note="n1 again", now=T0 + timedelta(seconds=2))
    log.record(size=5, root="r5", note="n5", now=T0 + timedelta(seconds=3))
    assert (log.size, log.root, log.note) == (5, "r5", "n5")
    events: list[Any] = list(log.collect_events())
    links = [
        ChainLink(e.originator_version, type(e).__name__, iso(e.timestamp), event_fields(e), e.hash)
        for e in events
    ]
    assert first_break(str(log.id), links) is None


def test_a_checkpoint_that_would_shrink_or_fork_the_tree_is_refused() -> None:
    log = TransparencyLog.start("example.com/log", T0)
    log.record(size=3, root="r3", note="n3", now=T0)
    with pytest.raises(CheckpointRefused, match="shrink"):
        log.record(size=2, root="r2", note="n2", now=T0)
    with pytest.raises(CheckpointRefused, match="fork"):
        log.record(size=3, root="other", note="n3'", now=T0)
    assert log.size == 3
