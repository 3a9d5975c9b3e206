"""Request validation (``parse_request``): every refusal is an InvalidInput naming its field."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue.domain.errors import InvalidInput
from proofqueue.domain.request import MAX_PARAMS_BYTES, MAX_PARAMS_DEPTH, parse_request

GOOD = {"request_id": "order-42", "actor": "agent-7", "target": "0xProvider/logo", "params": {}}


def parse(**changes: Any) -> Any:
    fields = {**GOOD, **changes}
    return parse_request(fields["request_id"], fields["actor"], fields["target"], fields["params"])


def refusal(**changes: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse(**changes)
    return caught.value


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep: nested(1) == {"v": 1}."""
    value: dict[str, Any] = {"v": 1}
    for _ in range(depth - 1):
        value = {"v": value}
    return value


def sized(total_bytes: int) -> dict[str, Any]:
    """An object whose compact JSON is exactly ``total_bytes`` bytes long."""
    overhead = len(json.dumps({"a": ""}, separators=(",", ":")))
    return {"a": "x" * (total_bytes - overhead)}


def test_a_well_formed_request_is_accepted_as_given() -> None:
    """The parsed request carries the fields unchanged and splits the target."""
    request = parse(params={"size": 3, "colors": ["red"]})
    assert request.request_id == "order-42"
    assert request.actor == "agent-7"
    assert request.target == "0xProvider/logo"
    assert request.params == {"size": 3, "colors": ["red"]}
    assert (request.provider, request.offering) == ("0xProvider", "logo")


# -- request_id -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_id", ["a", "x" * 255, "order:42/b#c?d", "!~", "A-Z_0.9"], ids=lambda v: v[:12]
)
def test_request_ids_of_printable_ascii_are_accepted(request_id: str) -> None:
    """1 to 255 printable ASCII characters, without spaces."""
    assert parse(request_id=request_id).request_id == request_id


@pytest.mark.parametrize(
    "request_id",
    [
        "",
        "x" * 256,
        "order 42",
        " order",
        "order\t42",
        "order\n",
        "ordér",
        "order\x7f",
        "order\x00",
        "order\ud800",
        "订单",
    ],
    ids=repr,
)
def test_bad_request_ids_are_refused_naming_request_id(request_id: str) -> None:
    """Empty, too long, with spaces, control, non-ASCII or surrogate characters: refused."""
    error = refusal(request_id=request_id)
    assert error.field == "request_id"
    assert "printable ASCII" in error.problem


@pytest.mark.parametrize("value", [42, None, b"order-42", ["order-42"]], ids=repr)
def test_a_request_id_that_is_not_a_string_is_refused(value: Any) -> None:
    """No coercion: 42 is not "42"."""
    assert refusal(request_id=value).field == "request_id"


@settings(deadline=None)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=255
    )
)
def test_any_printable_ascii_request_id_is_accepted(request_id: str) -> None:
    """Every string of 1-255 characters from '!' to '~' is a valid key."""
    assert parse(request_id=request_id).request_id == request_id


@settings(deadline=None)
@given(
    st.text(min_size=1, max_size=40).filter(lambda s: any(not 0x21 <= ord(ch) <= 0x7E for ch in s))
)
def test_any_request_id_with_a_character_outside_printable_ascii_is_refused(
    request_id: str,
) -> None:
    """A single space, control, non-ASCII or surrogate character makes it invalid."""
    assert refusal(request_id=request_id).field == "request_id"


# -- actor and target -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["actor", "target"])
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (" padded", "white space"),
        ("padded ", "white space"),
        ("bad\x00name", "control"),
        ("bad\nname", "control"),
        ("bad\x1bname", "control"),
        ("bad\x85name", "control"),
        ("bad\u2028name", "control"),
        ("evil\u202egnp.exe", "control"),
        ("bad\u2066name\u2069", "control"),
        ("bad\u200fname", "control"),
        ("bad\ud800name", "surrogate"),
    ],
    ids=repr,
)
def test_bad_actor_and_target_text_is_refused_naming_the_field(
    field: str, value: str, problem: str
) -> None:
    """Empty, padded, control characters or lone surrogates: refused, saying which and why."""
    if field == "target" and value.strip():
        value = f"p/{value}" if not value.startswith(" ") else f"{value}/o"
    error = refusal(**{field: value})
    assert error.field == field
    assert problem in error.problem


@pytest.mark.parametrize("field", ["actor", "target"])
@pytest.mark.parametrize("value", [7, None, ["a"], {"a": 1}], ids=repr)
def test_actor_and_target_must_be_strings(field: str, value: Any) -> None:
    """Non-string actor or target: refused naming the field."""
    assert refusal(**{field: value}).field == field


def test_the_actor_is_bounded_at_200_characters() -> None:
    """200 characters are fine, 201 are refused with the length."""
    assert parse(actor="a" * 200).actor == "a" * 200
    error = refusal(actor="a" * 201)
    assert error.field == "actor"
    assert "at most 200" in error.problem


def test_the_target_is_bounded_at_512_characters() -> None:
    """A 512-character target is fine, 513 is refused."""
    assert parse(target="p/" + "o" * 510).offering == "o" * 510
    error = refusal(target="p/" + "o" * 511)
    assert error.field == "target"
    assert "at most 512" in error.problem


def test_unicode_actor_names_are_fine() -> None:
    """Non-ASCII letters are not control characters."""
    assert parse(actor="agent-Zoë-東京").actor == "agent-Zoë-東京"


@pytest.mark.parametrize("target", ["provider", "/offering", "provider/", "/"])
def test_a_target_without_both_provider_and_offering_is_refused(target: str) -> None:
    """The target must be <provider>/<offering>, both parts non-empty."""
    error = refusal(target=target)
    assert error.field == "target"


def test_a_provider_with_white_space_is_refused() -> None:
    """The provider is a wallet address or name: no white space in it."""
    error = refusal(target="0x Provider/logo")
    assert error.field == "target"
    assert "provider" in error.problem


def test_the_offering_may_contain_spaces_and_slashes() -> None:
    """Only the first slash splits: the rest is the offering name."""
    request = parse(target="0xProvider/logo design/v2")
    assert (request.provider, request.offering) == ("0xProvider", "logo design/v2")


# -- params ---------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [[], "text", 3, None, [("a", 1)]], ids=repr)
def test_params_must_be_a_json_object(params: Any) -> None:
    """A list, a string, a number or null is not an object: refused naming params."""
    assert refusal(params=params).field == "params"


def test_params_of_exactly_64_kib_are_accepted() -> None:
    """65536 bytes of compact JSON is the limit, inclusive."""
    params = sized(MAX_PARAMS_BYTES)
    assert len(json.dumps(params, separators=(",", ":")).encode()) == 64 * 1024
    assert parse(params=params).params == params


def test_params_one_byte_over_64_kib_are_refused() -> None:
    """65537 bytes: refused, naming params and the size."""
    error = refusal(params=sized(MAX_PARAMS_BYTES + 1))
    assert error.field == "params"
    assert "64 KiB" in error.problem
    assert "65537" in error.problem


def test_the_size_limit_counts_utf8_bytes_not_characters() -> None:
    """Multi-byte characters count by their encoded size."""
    overhead = len(json.dumps({"a": ""}, separators=(",", ":")))
    fits = (MAX_PARAMS_BYTES - overhead) // 3
    assert parse(params={"a": "€" * fits}).params["a"] == "€" * fits
    assert refusal(params={"a": "€" * (fits + 1)}).field == "params"


def test_params_nested_16_deep_are_accepted() -> None:
    """Sixteen levels of nesting is the limit, inclusive."""
    assert parse(params=nested(MAX_PARAMS_DEPTH)).params == nested(16)


@pytest.mark.parametrize("depth", [17, 30, 64, 100])
def test_params_nested_deeper_than_16_are_refused(depth: int) -> None:
    """Deeper than 16 levels (objects or arrays): refused naming params."""
    error = refusal(params=nested(depth))
    assert error.field.startswith("params")


def test_arrays_count_towards_the_depth() -> None:
    """An array is a level too: 15 objects and 2 arrays are 17 levels, 1 array 16."""
    assert parse(params={"v": [nested(14)]}).params == {"v": [nested(14)]}
    assert refusal(params={"v": [[nested(14)]]}).field == "params"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"a": math.nan}, "params.a"),
        ({"a": [1, math.inf]}, "params.a[1]"),
        ({"a": {1, 2}}, "params.a"),
        ({"a": {"b": b"raw"}}, "params.a.b"),
    ],
    ids=repr,
)
def test_values_outside_json_are_refused_naming_where_they_are(
    params: dict[str, Any], field: str
) -> None:
    """NaN, infinity, sets and bytes are not JSON: the error names their path."""
    error = refusal(params=params)
    assert error.field == field


def test_a_non_string_key_is_refused_inside_params() -> None:
    """{1: ...} anywhere in params is refused, naming params."""
    error = refusal(params={"a": {1: "x"}})
    assert error.field.startswith("params")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"a": "x\ud800y"}, "params.a"),
        ({"a": ["\udfff"]}, "params.a[0]"),
        ({"k\ud800": 1}, "params"),
    ],
    ids=repr,
)
def test_lone_surrogates_in_params_are_refused(params: dict[str, Any], field: str) -> None:
    """A string or key that is not valid Unicode cannot be stored: refused naming it."""
    error = refusal(params=params)
    assert error.field == field
    assert "unicode" in error.problem


def test_unknown_fields_cannot_sneak_in_through_parse_request() -> None:
    """parse_request takes exactly four fields; the request holds no other (beside the
    params' canonical encoding it made while checking them)."""
    request = parse(params={"b": 1, "a": [2]})
    shown = {f.name for f in dataclasses.fields(request) if not f.name.startswith("_")}
    assert shown == {"request_id", "actor", "target", "params"}
    assert request.canonical_params == b'{"a":[2],"b":1}'
