"""``sanitize`` and ``secret_values`` give what the walk they replaced gave (``oracle_sanitize``):
the same public copy (types too), the same paths in the same order, the same errors."""

from __future__ import annotations

import collections
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from proofqueue.domain.request import parse_request
from proofqueue.domain.sanitize import sanitize, secret_values
from tests.unit import oracle_sanitize
from tests.unit.hostile import Sub, Text, View, keys, strings, values

HEADER_NAMES = st.sampled_from(["Authorization", "X-Api-Key", "Accept", "api key", "token"])
headers = st.one_of(
    st.fixed_dictionaries({"name": st.one_of(HEADER_NAMES, strings), "value": values}),
    st.fixed_dictionaries({"Key": HEADER_NAMES, "values": values}).map(Sub),
    st.lists(st.tuples(st.one_of(HEADER_NAMES, strings.map(Text)), values), max_size=3),
    st.lists(st.lists(st.one_of(HEADER_NAMES, values), min_size=2, max_size=2), max_size=3),
)
params = st.one_of(
    st.dictionaries(keys, st.one_of(values, headers), max_size=6),
    st.dictionaries(keys, st.one_of(values, headers), max_size=4).map(View),
    st.dictionaries(keys, values, max_size=4).map(collections.OrderedDict),
)


def typed(value: Any) -> Any:
    """``value`` as a structure ``==`` compares strictly: types, order, NaN and 1 vs True."""
    kind = type(value)
    if isinstance(value, dict):
        return (kind, [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (kind, [typed(v) for v in value])
    if isinstance(value, set):
        return (kind, sorted(value))
    if isinstance(value, float):
        return (kind, repr(value))
    if isinstance(value, str | int | bytes) or value is None:
        return (kind, value)
    return (kind, id(value))  # anything else goes through as the same object


def outcome(run: Any, params: Any) -> Any:
    try:
        return ("made", typed(run(params)))
    except Exception as exc:  # the same error, if any
        return ("raised", type(exc), str(exc))


@settings(max_examples=400, deadline=None)
@given(params=params)
@example(params={"a": 10**5000, 10**5000: 1})
@example(params={1: "x", "[REDACTED]#0": "y", "Bearer abcdefgh12345678": 2})
@example(params={"h": [("Authorization", ""), ["Authorization", "Bearer x"], ("X-Api-Key", 4)]})
@example(params={"name": "Authorization", "Value": "secret", "values": ["a"], "value": None})
@example(params={"n": 4111111111111111, "f": 4111111111111111.0, "t": True, "i": -(10**15)})
def test_sanitize_makes_what_the_old_walk_made(params: Any) -> None:
    """The public copy and the paths (order included), or the error, are the old walk's."""
    assert outcome(sanitize, params) == outcome(oracle_sanitize.sanitize, params)


@settings(max_examples=200, deadline=None)
@given(params=params)
def test_secret_values_are_what_they_were(params: Any) -> None:
    """``secret_values`` (run behind the new pattern gates) finds the same texts."""
    assert outcome(secret_values, params) == outcome(oracle_sanitize.secret_values, params)


@settings(max_examples=200, deadline=None)
@given(params=st.dictionaries(strings, st.one_of(values, headers), max_size=6))
def test_sanitize_of_accepted_params_is_what_it_was(params: dict[str, Any]) -> None:
    """On params as ``parse_request`` hands them to ``sanitize`` (when it accepts them)."""
    try:
        accepted = parse_request("r-1", "agent", "p/o", params).params
    except Exception:  # refused params never reach sanitize
        return
    assert outcome(sanitize, accepted) == outcome(oracle_sanitize.sanitize, accepted)
