"""The strict mapper's fast path (``fast_decode``: a JSON parse and type check by msgspec,
without a hook per object) decodes every stored state to exactly what the
transcoder's hook and the full shape check give: the same event, or the same damage named
the same way."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    StoredEvent,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue import ProofQueue, Settings
from proofqueue.adapters import fast_encode
from proofqueue.adapters import mapper as strict
from proofqueue.adapters.mapper import StrictMapper
from proofqueue.domain.intent import Intent

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _mapper() -> StrictMapper:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return StrictMapper(transcoder=transcoder)


def _stored() -> list[StoredEvent]:
    intent = Intent.queue(
        request_id="r-1", actor="agent-7", target="0xP/logo", params_public={"n": 1},
        params_sealed=None, params_plain={"n": 1}, params_digest="0" * 64, max_attempts=3,
        deadline=NOW + timedelta(days=1), now=NOW,
    )  # fmt: skip
    intent.start_attempt(worker="w", lease=timedelta(seconds=30), now=NOW)
    mapper = _mapper()
    return [mapper.to_stored_event(event) for event in intent.collect_events()]


def _text(old: str, new: str) -> Callable[[str], str]:
    return lambda state: state.replace(old, new, 1)


def _first_time(new: str) -> Callable[[str], str]:
    """The timestamp's typed value replaced by ``new``."""
    return lambda state: re.sub(
        r'\{"_type_":"datetime_iso","_data_":"[^"]*"\}', new, state, count=1
    )


EDITS: dict[str, Callable[[str], str]] = {
    "as stored": lambda state: state,
    "a typed value inside params": _text(
        '"params_public":{', '"params_public":{"w":{"_type_":"datetime_iso","_data_":"2026-01-01"},'
    ),
    "a key spelled with an escape": _text(
        '"params_public":{', '"params_public":{"w":{"\\u005ftype_":"datetime_iso","_data_":"x"},'
    ),
    "a naive time": _first_time('{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00"}'),
    "an unknown type": _first_time('{"_type_":"nope","_data_":"x"}'),
    "a time that is a number": _first_time('{"_type_":"datetime_iso","_data_":5}'),
    "a time that is not one": _first_time('{"_type_":"datetime_iso","_data_":"soon"}'),
    "a typed value with more": _first_time(
        '{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00+00:00","x":1}'
    ),
    "a typed value without data": _first_time('{"_type_":"datetime_iso","x":"y"}'),
    "NaN": _text('"n":1', '"n":NaN'),
    "a huge float": _text('"n":1', '"n":1e400'),
    "minus zero": _text('"n":1', '"n":-0'),
    "a huge integer": _text('"n":1', '"n":123456789012345678901234567890'),
    "a key twice": _text('"actor":"agent-7"', '"actor":"x","actor":"agent-7"'),
    "a quote before _type_": _text('"actor":"agent-7"', '"actor":"x\\"_type_"'),
    "a lone surrogate": _text('"actor":"agent-7"', '"actor":"\\ud800"'),
    "a number for text": _text('"actor":"agent-7"', '"actor":7'),
    "true for a number": _text('"max_attempts":3', '"max_attempts":true'),
    "a field missing": _text('"actor":"agent-7",', ""),
    "an unknown field": _text('"actor":"agent-7",', '"actor":"agent-7","extra":1,'),
    "a newer class version": _text('"class_version":2', '"class_version":3'),
    "a class version as text": _text('"class_version":2', '"class_version":"2"'),
    "another class named": _text(":Intent", ":Other"),
    "spaces": lambda state: json.dumps(json.loads(state), indent=1),
    "trailing text": lambda state: state + "x",
    "not an object": lambda state: "[1, 2]",
    "a typed value alone": lambda state: '{"_type_":"datetime_iso","_data_":"2026-01-01"}',
    "nothing": lambda state: "",
}


def _outcome(mapper: StrictMapper, stored: StoredEvent) -> tuple[str, str]:
    try:
        event = mapper.to_domain_event(stored)
    except strict.DamagedEvent as exc:
        return "damaged", exc.reason
    return type(event).__name__, repr(vars(event))


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The general path only: the hook's decoding and the full shape check."""
    monkeypatch.setattr(StrictMapper, "_plan", lambda self, topic: None)


@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("index", [0, 1], ids=["Queued", "AttemptStarted"])
def test_the_fast_path_decodes_to_what_the_hook_and_the_full_check_give(
    edit: str, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = _stored()[index]
    state = EDITS[edit](stored.state.decode("utf-8"))
    changed = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=state.encode("utf-8", "surrogatepass"),
    )
    fast = _outcome(_mapper(), stored), _outcome(_mapper(), changed)  # the good one first
    _slow(monkeypatch)
    slow = _outcome(_mapper(), stored), _outcome(_mapper(), changed)
    assert fast == slow
    if edit == "as stored":
        assert fast[1][0] != "damaged"


def test_bytes_that_are_not_utf8_are_damage_named_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = _stored()[0]
    broken = StoredEvent(
        originator_id=uuid.UUID(str(stored.originator_id)),
        originator_version=1,
        topic=stored.topic,
        state=stored.state.replace(b"agent-7", b"agent-\xff"),
    )
    fast = _outcome(_mapper(), broken)
    _slow(monkeypatch)
    assert fast == _outcome(_mapper(), broken)
    assert fast[0] == "damaged"


def test_a_remembered_shape_still_refuses_a_naive_time() -> None:
    """A shape found good once is checked again for what the types alone do not say."""
    mapper = _mapper()
    stored = _stored()[0]
    mapper.to_domain_event(stored)  # remembered
    naive = EDITS["a naive time"](stored.state.decode())
    bad: Any = StoredEvent(stored.originator_id, 1, stored.topic, naive.encode())
    with pytest.raises(strict.DamagedEvent, match="timestamp"):
        mapper.to_domain_event(bad)


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**100), max_value=2**100),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(["_type_", "_data_", "datetime_iso", "2026-01-01T00:00:00+00:00"]),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(st.text(max_size=3), st.sampled_from(["_type_", "_data_"])),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=10,
)


@given(_values, st.booleans())
@settings(max_examples=200, deadline=None)
def test_any_params_decode_to_what_the_hook_gives(value: Any, ascii_only: bool) -> None:
    stored = _stored()[0]
    params = json.dumps({"v": value}, ensure_ascii=ascii_only, separators=(",", ":"))
    state = stored.state.decode().replace('"params_public":{"n":1}', f'"params_public":{params}')
    assert params in state
    changed = StoredEvent(stored.originator_id, 1, stored.topic, state.encode())
    fast = _outcome(_mapper(), changed)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _slow(monkeypatch)
        assert fast == _outcome(_mapper(), changed)


def test_the_usual_event_takes_the_fast_path_once_its_shape_is_known(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mapper = _mapper()
    for stored in _stored():
        mapper.to_domain_event(stored)  # the general path: the shape is remembered

    def general(self: StrictMapper, stored: StoredEvent) -> Any:
        raise AssertionError("the general path was taken")

    monkeypatch.setattr(StrictMapper, "_decode", general)
    events = [mapper.to_domain_event(stored) for stored in _stored()]
    assert [type(event).__name__ for event in events] == ["Queued", "AttemptStarted"]


def _queued(params: dict[str, Any]) -> Any:
    intent = Intent.queue(
        request_id="r-1", actor="agent-7", target="0xP/logo", params_public=params,
        params_sealed=None, params_plain=params, params_digest="0" * 64, max_attempts=3,
        deadline=NOW + timedelta(days=1), now=NOW,
    )  # fmt: skip
    return intent.collect_events()[0]


_encodable = st.recursive(
    _leaves | st.sampled_from(["\x00", "\x7f", "é", "\u2028", "😀", 1e-05, -0.0, 1e16]),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=3) | st.sampled_from(["_type_", "_data_"]), inner),
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=4), _encodable, max_size=4))
@settings(max_examples=300, deadline=None)
def test_an_event_written_by_the_fast_path_reads_back_as_the_transcoders_does(
    params: dict[str, Any],
) -> None:
    """The same event, and the same JSON value as eventsourcing's transcoder writes (the
    bytes may differ only in how a float is spelled), whatever the params hold."""
    event = _queued(params)
    fast = StrictMapper(transcoder=fast_encode.Transcoder()).to_stored_event(event)
    slow = _mapper().to_stored_event(event)
    assert (fast.originator_id, fast.originator_version, fast.topic) == (
        slow.originator_id, slow.originator_version, slow.topic,
    )  # fmt: skip
    assert json.loads(fast.state) == json.loads(slow.state)
    assert _outcome(_mapper(), fast) == _outcome(_mapper(), slow)


def test_the_fast_path_writes_the_usual_event_and_leaves_the_unusual_to_the_transcoder() -> None:
    if fast_encode._encode is None:
        pytest.skip("msgspec is not installed (the `fast` extra): no fast path to check")
    event = _queued({"n": 1, "x": [1.5, "é", None]})
    state = {k: v for k, v in vars(event).items() if not k.startswith("originator_")}
    assert fast_encode.encode(state) is not None
    for unusual in (float("nan"), {1: "int key"}, {"d": NOW}, uuid.uuid4(), {"s": {1, 2}}):
        assert fast_encode.encode({**state, "params_plain": unusual}) is None
    assert fast_encode.encode({"a": "\ud800"}) is None  # the transcoder names it


def test_the_log_writes_with_the_fast_transcoder() -> None:
    with ProofQueue(Settings(store=":memory:")) as pq:
        assert type(pq.parts.log.mapper.transcoder) is fast_encode.Transcoder
