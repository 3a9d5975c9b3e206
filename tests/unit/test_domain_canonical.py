"""The canonical encoding the proof hash is computed over (``proofqueue.domain.canonical``)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue.domain import canonical as canonical_module
from proofqueue.domain.canonical import canonical, check_json, encode_checked
from proofqueue.domain.errors import InvalidInput

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def identity(value: Any) -> Any:
    """A structural key that tells JSON values apart the way JSON does: 1, 1.0 and True
    differ, and so do 0.0 and -0.0; dict key order does not matter."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, str):
        return ("str", value)
    if value is None:
        return ("null",)
    if isinstance(value, list):
        return ("list", tuple(identity(item) for item in value))
    return ("dict", frozenset((key, identity(item)) for key, item in value.items()))


def test_the_encoding_is_compact_sorted_ascii_json() -> None:
    """Sorted keys, no white space, non-ASCII escaped."""
    assert canonical({"b": [1, 2.5, None], "a": "é", "c": True}) == (
        b'{"a":"\\u00e9","b":[1,2.5,null],"c":true}'
    )


def test_key_order_does_not_change_the_encoding() -> None:
    """{a, b} and {b, a} encode the same, at every depth."""
    one = {"x": 1, "y": {"p": [1, {"m": 1, "n": 2}], "q": None}}
    two = {"y": {"q": None, "p": [1, {"n": 2, "m": 1}]}, "x": 1}
    assert canonical(one) == canonical(two)


def test_one_and_one_point_zero_and_true_encode_differently() -> None:
    """1, 1.0 and True are three JSON values with three encodings."""
    encodings = {canonical(1), canonical(1.0), canonical(True)}
    assert encodings == {b"1", b"1.0", b"true"}


def test_a_tuple_encodes_as_the_list_it_carries() -> None:
    """Tuples are JSON arrays (documented): same encoding as the list."""
    assert canonical({"a": (1, "x")}) == canonical({"a": [1, "x"]})


def test_list_order_matters() -> None:
    """Arrays are ordered: [1, 2] and [2, 1] differ."""
    assert canonical([1, 2]) != canonical([2, 1])


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_the_same_value_always_gives_the_same_bytes(value: Any) -> None:
    """Encoding is a function: twice, or after a JSON round trip, the bytes are equal."""
    assert canonical(value) == canonical(value)
    assert canonical(json.loads(canonical(value))) == canonical(value)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_the_encoding_decodes_back_to_the_same_value(value: Any) -> None:
    """Nothing is lost: decoding the bytes gives a value identical to the input."""
    assert identity(json.loads(canonical(value))) == identity(value)


@settings(max_examples=100, deadline=None)
@given(json_values, json_values)
def test_distinct_values_never_share_an_encoding(a: Any, b: Any) -> None:
    """The encoding is unambiguous: different JSON values, different bytes."""
    if identity(a) != identity(b):
        assert canonical(a) != canonical(b)
    else:
        assert canonical(a) == canonical(b)


def as_floats(value: Any) -> Any:
    """The same value with every int and bool leaf turned into the float Python deems equal."""
    if isinstance(value, bool | int) and abs(value) <= 2**53:
        return float(value)
    if isinstance(value, list):
        return [as_floats(item) for item in value]
    if isinstance(value, dict):
        return {key: as_floats(item) for key, item in value.items()}
    return value


@settings(max_examples=100, deadline=None)
@given(json_values.filter(lambda v: identity(as_floats(v)) != identity(v)))
def test_values_python_deems_equal_but_json_does_not_encode_differently(value: Any) -> None:
    """Turning 1 into 1.0 or True into 1.0 changes the bytes even though Python says ==."""
    twin = as_floats(value)
    assert twin == value  # Python's equality cannot tell them apart ...
    assert canonical(twin) != canonical(value)  # ... the canonical encoding can


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(max_size=5), json_values, max_size=6), st.randoms())
def test_any_key_order_gives_the_same_bytes(value: dict[str, Any], rnd: Any) -> None:
    """A dict rebuilt with its keys shuffled encodes identically."""
    items = list(value.items())
    rnd.shuffle(items)
    assert canonical(dict(items)) == canonical(value)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (math.nan, "$"),
        ({"a": math.inf}, "$.a"),
        ({"a": [1, {"b": -math.inf}]}, "$.a[1].b"),
        ([0, 1, math.nan], "$[2]"),
    ],
)
def test_nan_and_infinity_are_refused_naming_the_path(value: Any, path: str) -> None:
    """NaN and ±infinity have no JSON encoding: InvalidInput names where they are."""
    with pytest.raises(InvalidInput, match="NaN and infinity") as caught:
        canonical(value)
    assert caught.value.field == path


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({1: "a"}, "$"),
        ({"a": {None: 1}}, "$.a"),
        ({"a": [{(1, 2): 1}]}, "$.a[0]"),
    ],
)
def test_non_string_keys_are_refused_naming_the_object(value: Any, path: str) -> None:
    """Only string keys: the error names the object holding the bad key, and the key."""
    with pytest.raises(InvalidInput, match="is not a string") as caught:
        canonical(value)
    assert caught.value.field == path


@pytest.mark.parametrize(
    ("value", "path", "type_name"),
    [
        ({"when": dt.datetime(2026, 1, 1)}, "$.when", "datetime"),
        ({"n": decimal.Decimal("1.5")}, "$.n", "Decimal"),
        ({"s": {1, 2}}, "$.s", "set"),
        ({"b": [b"raw"]}, "$.b[0]", "bytes"),
        ({"u": uuid.UUID(int=0)}, "$.u", "UUID"),
        (object(), "$", "object"),
    ],
)
def test_values_outside_json_are_refused_naming_the_path(
    value: Any, path: str, type_name: str
) -> None:
    """datetime, Decimal, set, bytes, UUID ... have no canonical encoding."""
    with pytest.raises(InvalidInput, match=f"{type_name} has no canonical encoding") as caught:
        canonical(value)
    assert caught.value.field == path


def test_check_json_uses_the_path_it_is_given() -> None:
    """``check_json`` prefixes paths with the caller's name for the value."""
    with pytest.raises(InvalidInput) as caught:
        check_json({"a": [math.nan]}, "params")
    assert caught.value.field == "params.a[0]"


def test_absurdly_deep_nesting_is_refused_not_a_recursion_error() -> None:
    """A value nested past 64 levels is refused with InvalidInput."""
    value: Any = 1
    for _ in range(200):
        value = [value]
    with pytest.raises(InvalidInput, match="nested too deeply"):
        canonical(value)


def _standard(value: Any) -> bytes:
    """The canonical encoding as the standard library writes it (the definition)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


# Strings where msgspec and the standard library part ways, and keys in every order.
_tricky_text = st.sampled_from(
    ["", "\x00", "\x1f", "\x7f", "\n\t\b\f\r", "é", "\u2028", "😀", "\ud800", "a:1.5",
     "[2e5", ",-3.0", "26e8", '"', "\\", "/", "B", "_", "a-", "a_"]
)  # fmt: skip
_tricky_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 1e16, 1e-5, 1e-7, 5e-324, 1e308, 0.1, 123456789.0])
    | st.text()
    | _tricky_text,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6) | _tricky_text, inner, max_size=4)
    ),
    max_leaves=16,
)


@settings(max_examples=600, deadline=None)
@given(_tricky_values)
def test_the_fast_encoder_writes_the_standard_librarys_bytes(value: Any) -> None:
    try:
        expected = _standard(value)
    except UnicodeEncodeError:  # a lone surrogate: JSON text cannot hold it as UTF-8
        expected = None
    if expected is not None:
        assert encode_checked(value) == expected


def test_the_fast_encoder_is_in_use_and_defers_where_it_would_differ() -> None:
    """Without msgspec this module encodes with the standard library only; with it, plain
    values take the fast path, and floats and subclasses do not."""
    if canonical_module._fast is None:
        pytest.skip("msgspec is not installed (the `fast` extra): no fast path to check")
    assert canonical_module._floatless({"a": [1, "x", None, True, ("y", {"b": 2})]})
    text = type("Text", (str,), {})
    for differing in ({"a": 1e-05}, [1.5], 2.0, {"a": [{"b": -0.0}]}, {"a": text("x")}):
        assert not canonical_module._floatless(differing)
