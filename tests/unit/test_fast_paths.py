"""The fast paths agree with the plain ones they stand in for: the canonical encoding's
check, and RFC 8785 for receipts (transparency leaves)."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue.domain.canonical import _check, _plain
from proofqueue.domain.errors import InvalidInput
from proofqueue.projections.tlog import receipt_leaf

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**4200), max_value=2**4200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.binary(max_size=2),
    st.sets(st.integers(), max_size=1),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers()), inner, max_size=3),
    ),
    max_leaves=12,
)


def _accepted(value: Any) -> bool:
    try:
        _check(value, "$", 0)
    except InvalidInput:
        return False
    return True


@given(values)
@settings(max_examples=150)
def test_the_quick_check_accepts_exactly_what_the_full_check_accepts(value: Any) -> None:
    assert _plain(value, 0) == _accepted(value)


def test_the_quick_check_refuses_nesting_past_the_limit_even_for_text() -> None:
    deep: Any = "leaf"
    for _ in range(64):
        deep = [deep]
    assert _plain(deep, 0) == _accepted(deep) is True
    assert _plain([deep], 0) == _accepted([deep]) is False
    assert _plain({"k": deep}, 0) == _accepted({"k": deep}) is False


receipts = st.dictionaries(
    st.sampled_from(["request_id", "actor", "status", "attempts", "job_id", "proof", "x"]),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**60), max_value=2**60),
        st.text(),
        st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3F)),
    ),
)


@given(receipts)
@settings(max_examples=150)
def test_a_receipt_leaf_is_rfc8785_whatever_its_text(receipt: dict[str, Any]) -> None:
    try:
        expected: bytes | None = rfc8785.dumps(receipt)
    except Exception:
        expected = None
    try:
        found: bytes | None = receipt_leaf(receipt)
    except Exception:
        found = None
    assert found == expected
