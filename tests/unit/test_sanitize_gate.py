"""The sanitizer's gate (``_may_hold_secret``) lets a text skip the secret patterns only when
none of them could match it: on every generated text the patterns find something in, the
gate says the text may hold a secret. Behind it each pattern has a gate of its own (the marks
every match of it needs): ``_pattern_spans`` finds what ``_all_pattern_spans`` finds."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from proofqueue.domain.sanitize import redact_text
from proofqueue.domain.sanitize.shapes import _SHAPES, _may_have_shape
from proofqueue.domain.sanitize.values import _all_pattern_spans, _may_hold_secret, _pattern_spans
from tests.unit import hostile

# Secrets of each shape the patterns know, most of them without any of the gate's marks.
SHAPES = [
    "Bearer abcdefgh12345678",
    "bearer\tZZZZZZZZZZZZ",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
    "0x" + "a1" * 32,
    "deadbeef" * 8,
    "sk_live_abcdefgh1234",
    "sk-abcdefghijklmnop1234",
    "ghp_" + "a" * 24,
    "github_pat_" + "b" * 24,
    "glpat-" + "c" * 24,
    "xoxb-1234567890ab",
    "AKIAIOSFODNN7EXAMPLE",
    "ASIAIOSFODNN7EXAMPLE",
    "AIza" + "S" * 35,
    "https://user:hunter2@example.com/x",
    "https://example.com/x?api_key=abcd1234",
    '"password": "hunter2"',
    "token='abcdef'",
    "Authorization: Basic x",
    "X-Api-Key: abcdef",
    "Cookie: session=abc",
    "Basic dXNlcjpwYXNzd29yZA",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4111111111111111",
    "378282246310005",
]
PIECES = [
    *SHAPES,
    *(shape[: len(shape) // 2] for shape in SHAPES),
    *(shape[len(shape) // 2 :] for shape in SHAPES),
    "Bearer", "bearer ", "BASIC ", "basic ", "Authorization", "authorization", "eyJ", "AKIA",
    "ASIA", "AIza", "://", "@", "?", "&", "#", "=", '"', "'", ":", "-", "_", " ", "\t", "\n",
    ".", "/", "x-", "X-", "api-key", "Cookie", "set-cookie", "4111", "1111", "0000", "5",
]  # fmt: skip
texts = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(alphabet=string.ascii_letters + string.digits + " .,/@", max_size=12),
        st.text(alphabet="0123456789abcdefABCDEF -", min_size=1, max_size=70),
    ),
    max_size=8,
).map("".join)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_secret_shape_passes_the_gate(shape: str) -> None:
    for text in (shape, f"see {shape} now", f"{shape}\n"):
        assert _all_pattern_spans(text), text  # the patterns know it
        assert _may_hold_secret(text), text
        assert redact_text(text) != text


@settings(max_examples=1500, deadline=None)
@given(text=texts)
@example(text="a minimal logo for a coffee roaster, warm colours, no text")
def test_the_gate_never_turns_away_a_text_the_patterns_match(text: str) -> None:
    if _all_pattern_spans(text):
        assert _may_hold_secret(text)


def test_plain_prose_skips_the_patterns() -> None:
    # The point of the gate: plain values cost one pass over a set, not nine regexes.
    assert not _may_hold_secret("a minimal logo for a coffee roaster, warm colours, no text")
    assert not _may_hold_secret("order 12345, size 1024x1024")


# -- the gates of each pattern: ``_pattern_spans`` is ``_all_pattern_spans``, cheaper ----------


@settings(max_examples=1500, deadline=None)
@given(text=st.one_of(texts, hostile.texts))
@example(text="Authorızation: Bearer x")  # noqa: RUF001  (a dotless i, on purpose)
@example(text="authorization=abc")
@example(text="gho_" + "a" * 24)
@example(text="4111 1111-1111 1111")
def test_each_pattern_runs_on_every_text_it_could_match(text: str) -> None:
    """Skipping the patterns a text lacks the marks of loses no span."""
    assert _pattern_spans(text) == _all_pattern_spans(text)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_secret_shape_passes_its_pattern_gate(shape: str) -> None:
    for text in (shape, f"see {shape} now", f"{shape}\n", shape.upper(), shape.lower()):
        assert _pattern_spans(text) == _all_pattern_spans(text), text


def test_only_ascii_letters_match_bearer_in_any_case() -> None:
    """``"bearer" in text.lower()`` is the hint of ``(?i:bearer)``: no other character of all
    Unicode matches one of its letters case-insensitively in Python's regular expressions."""
    everything = "".join(map(chr, range(0x110000)))
    assert set(re.findall("(?i)[bear]", everything)) == set("bearBEAR")


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(texts, hostile.texts))
def test_the_quick_shape_gate_says_yes_whenever_a_shape_may_match(text: str) -> None:
    """``_may_have_shape`` is every shape's hint in one function: never less permissive."""
    lower = text.lower()
    if any(may_match(text, lower) for _, may_match in _SHAPES):
        assert _may_have_shape(text)
