"""``parse_request`` decides as the pydantic model it replaced (``oracle_request``): on
generated hostile input, the same request accepted or the same field and message refused."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from proofqueue.domain.errors import InvalidInput
from proofqueue.domain.request import parse_request
from tests.unit import oracle_request
from tests.unit.hostile import PIECES, Text, big_params, params, strings

request_ids = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7F), max_size=8),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=250, max_size=260),
    strings,
    st.sampled_from([42, None, b"order-42", ["order-42"], True]),
)
names = st.one_of(
    st.sampled_from(["agent-7", " agent", "agent ", "", "   ", "a" * 200, "a" * 201]),
    strings,
    st.lists(st.sampled_from(["agent", "x", *PIECES]), max_size=4).map("".join),
    st.sampled_from([7, None, ["a"], {"a": 1}, False]),
)
targets = st.one_of(
    st.sampled_from(["0xP/logo", "p/" + "o" * 510, "p/" + "o" * 511, "p", "/o", "p/", " p/o"]),
    st.sampled_from(["0x P/logo", "p\u2028/o", "p/o\u202e", "p\xa0q/o", "p/o design/v2"]),
    st.tuples(st.sampled_from(["p", "0xP", "a b", "\t"]), strings).map("/".join),
    strings,
    st.sampled_from([7, None, ["a/b"]]),
)


def outcome(parse: Any, *fields: Any) -> tuple[Any, ...]:
    """What one implementation made of the fields, comparable with ``==`` (types too)."""
    try:
        request = parse(*fields)
    except InvalidInput as exc:
        return ("refused", type(exc), exc.field, exc.problem)
    except Exception as exc:  # the other errors must be the same too
        return ("raised", type(exc), str(exc))
    made = request.params
    return (
        "accepted",
        [(type(v), v) for v in (request.request_id, request.actor, request.target)],
        type(made),
        made is fields[3],  # a new dict, never the caller's
        [(type(k), k, id(v)) for k, v in made.items()],  # the same values, not copies
        (request.provider, request.offering, request.canonical_params),
    )


GOOD_PARAMS = st.sampled_from([{}, {"a": 1}, {"a": math.nan}, {"a": ["\ud800"]}, {1: 2}, []])


@settings(max_examples=300, deadline=None)
@given(request_id=request_ids, actor=names, target=targets, params=GOOD_PARAMS)
def test_the_fields_are_decided_as_the_model_did(
    request_id: Any, actor: Any, target: Any, params: Any
) -> None:
    """The same field named, in the same order, with the same message."""
    fields = (request_id, actor, target, params)
    expected = outcome(oracle_request.parse_request, *fields)
    assert outcome(parse_request, *fields) == expected


@settings(max_examples=400, deadline=None)
@given(
    request_id=st.sampled_from(["order-42", "order-43", "order-44", "bad id"]),
    actor=st.sampled_from(["agent-7", Text("agent")]),
    target=st.sampled_from(["0xP/logo", "bad"]),
    params=params,
)
@example(request_id="bad id", actor="a", target="p/o", params={"x": math.nan})
@example(request_id="r", actor="a", target="p/o", params={"x": ("\ud800",)})
@example(request_id="r", actor="a", target="p/o", params={Text("k\ud800"): 1, 1: 2})
@example(request_id="r", actor="a", target="p/o", params={10**5000: 1})
@example(request_id="r", actor="a\ud800", target="p/o", params={"k\ud800": 1})
@example(request_id=Text("r"), actor=Text("a"), target=Text("p/o"), params={Text("k"): 1})
def test_params_are_decided_as_the_model_did(
    request_id: Any, actor: Any, target: Any, params: Any
) -> None:
    """Accepted alike (the same text, a new dict of the same values) or refused alike."""
    fields = (request_id, actor, target, params)
    expected = outcome(oracle_request.parse_request, *fields)
    assert outcome(parse_request, *fields) == expected


@settings(max_examples=120, deadline=None)
@given(params=big_params())
def test_the_size_limit_is_decided_as_the_model_did(params: dict[str, Any]) -> None:
    """Around 64 KiB, in one- and three-byte characters, and with lone surrogates."""
    fields = ("r-1", "agent", "p/o", params)
    assert outcome(parse_request, *fields) == outcome(oracle_request.parse_request, *fields)
