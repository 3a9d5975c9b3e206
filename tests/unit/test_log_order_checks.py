"""verify's checks of the log's order, which stream: one aggregate's events read by version
name what a walk of the whole log in id order would name, and the views' last applied
events are looked up a page at a time."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue.projections.damage import Damaged
from proofqueue.projections.order import aggregate_order, heads_findings, misplaced

KEY = "7c0f5a8e-0000-4000-8000-000000000001"


def walk_in_id_order(events: Sequence[tuple[int, int]]) -> Damaged | None:
    """The reference: the log walked in id order, each version expected to follow the last."""
    last = 0
    for number, version in sorted(events):
        if version != last + 1:
            return misplaced(number, KEY, version, last)
        last = version
    return None


@st.composite
def trails(draw: st.DrawFn) -> list[tuple[int, int]]:
    """An aggregate's events as (notification id, version), in version order: versions
    1..n, maybe one missing or repeated, ids rising or shuffled."""
    size = draw(st.integers(1, 8))
    versions = list(range(1, size + 1))
    if size > 1 and draw(st.booleans()):
        del versions[draw(st.integers(0, size - 1))]
    ids = sorted(
        draw(
            st.lists(
                st.integers(1, 100), min_size=len(versions), max_size=len(versions), unique=True
            )
        )
    )
    if draw(st.booleans()):
        ids = draw(st.permutations(ids))
    return list(zip(ids, versions, strict=True))


@settings(max_examples=400, deadline=None)
@given(events=trails())
def test_one_aggregate_read_by_version_names_what_the_id_order_walk_names(
    events: list[tuple[int, int]],
) -> None:
    assert aggregate_order(KEY, events) == walk_in_id_order(events)


def test_a_swap_and_a_missing_event_are_named_in_order_ones_are_not() -> None:
    assert aggregate_order(KEY, [(3, 1), (5, 2), (9, 3)]) is None
    swapped = aggregate_order(KEY, [(3, 1), (9, 2), (5, 3)])
    assert swapped is not None
    assert swapped.notification_id == 5
    assert "event 3 follows event 1" in swapped.reason
    missing = aggregate_order(KEY, [(3, 1), (9, 3)])
    assert missing is not None
    assert "event 2 not before it" in missing.reason


def test_heads_are_looked_up_a_page_at_a_time_and_a_moved_or_lost_one_named() -> None:
    log = {10: (KEY, 1), 11: ("other", 1), 12: (KEY, 2)}
    reads: list[Sequence[int]] = []

    def events_at(ids: Sequence[int]) -> dict[int, tuple[str, int]]:
        reads.append(ids)
        return {n: log[n] for n in ids if n in log}

    def notification_of(key: str, version: int) -> int | None:
        return next((n for n, at in log.items() if at == (key, version)), None)

    pages = [[(KEY, 2, 12), ("other", 1, 11)], [("lost", 4, 40), (KEY, 1, 13)]]
    found = heads_findings(pages, events_at, notification_of)
    assert reads == [[12, 11], [40, 13]]
    assert [(d.aggregate_id, d.notification_id) for d in found] == [("lost", 40), (KEY, 13)]
    assert found[0].reason.endswith("it is not in the log now")
    assert found[1].reason.endswith("it is notification 10")
