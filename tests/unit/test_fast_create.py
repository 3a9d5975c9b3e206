"""A new aggregate made by ``ChainedAggregate._chain_create``'s own path is the one
eventsourcing's ``_create`` makes: the same state, the same creation event attribute for
attribute and in the same order (so it is stored as the same bytes); and ``intent_id`` is
``uuid.uuid5``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import given
from hypothesis import strategies as st

from proofqueue.domain.breaker_log import BreakerLog
from proofqueue.domain.chained import ChainedAggregate
from proofqueue.domain.intent import NAMESPACE, Intent, intent_id
from proofqueue.domain.transparency_log import TransparencyLog

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
params = st.dictionaries(
    st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=4
)


def _generic(made: ChainedAggregate) -> ChainedAggregate:
    """The same creation through eventsourcing's ``_create`` (the event's hash taken over)."""
    (event,) = made.pending_events
    state = {k: v for k, v in vars(event).items() if k not in ("originator_id",
             "originator_version", "originator_topic", "timestamp")}  # fmt: skip
    created: Any = type(event)
    return type(made)._create(created, id=event.originator_id, timestamp=event.timestamp, **state)


def _same(fast: Aggregate, generic: Aggregate) -> None:
    assert type(fast) is type(generic)
    fast_state = {k: v for k, v in vars(fast).items() if k != "_pending_events"}
    generic_state = {k: v for k, v in vars(generic).items() if k != "_pending_events"}
    assert fast_state == generic_state
    assert list(fast_state) == list(generic_state)
    (mine,), (theirs,) = fast.pending_events, generic.pending_events
    assert type(mine) is type(theirs)
    assert list(vars(mine).items()) == list(vars(theirs).items())


@given(
    request_id=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1),
    public=params,
    plain=st.one_of(st.none(), params),
    sealed=st.one_of(st.none(), st.text(max_size=9)),
    attempts=st.integers(min_value=1, max_value=50),
)
def test_a_queued_intent_is_made_as_eventsourcing_makes_it(
    request_id: str, public: dict[str, Any], plain: dict[str, Any] | None, sealed: str | None,
    attempts: int,
) -> None:  # fmt: skip
    fast = Intent.queue(
        request_id=request_id, actor="agent", target="acme/logo", params_public=public,
        params_sealed=sealed, params_plain=plain, params_digest="sha256:00",
        max_attempts=attempts, deadline=NOW + timedelta(hours=1), now=NOW,
    )  # fmt: skip
    _same(fast, _generic(fast))


def test_breakers_and_transparency_logs_are_made_as_eventsourcing_makes_them() -> None:
    for made in (BreakerLog.open("http://vendor", NOW), TransparencyLog.start("pq/log", NOW)):
        _same(made, _generic(made))


def test_other_fields_than_the_event_declares_are_refused_by_eventsourcing() -> None:
    with pytest.raises(TypeError, match="Queued"):
        Intent._chain_create(Intent.Queued, intent_id("r-1"), NOW, request_id="r-1")


@given(st.text())
def test_intent_id_is_uuid5(request_id: str) -> None:
    try:
        expected = uuid.uuid5(NAMESPACE, request_id)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            intent_id(request_id)
        return
    made = intent_id(request_id)
    assert made == expected
    assert (made.version, made.variant, made.is_safe) == (5, uuid.RFC_4122, expected.is_safe)
    assert hash(made) == hash(expected)
    assert str(made) == str(expected)
