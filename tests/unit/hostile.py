"""Hypothesis strategies for hostile input: what a caller may hand to ``parse_request`` or
``sanitize`` (lone surrogates, NaN, deep nesting, bidi controls, huge ints, non-str keys,
tuples, Mapping subclasses, bool against int), shared by the differential tests."""

from __future__ import annotations

import collections
import enum
import json
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hypothesis import strategies as st


class Text(str):
    """A str subclass (its ``str()`` is not its text)."""

    def __str__(self) -> str:
        return "not-" + super().__str__()


class Count(enum.IntEnum):
    """An int subclass whose repr is not its digits."""

    FIVE = 5


class Colour(enum.StrEnum):
    """A str subclass holding a secret-looking word."""

    TOKEN = "token"


class Sub(dict[Any, Any]):
    """A plain dict subclass."""


class View(Mapping[Any, Any]):
    """A Mapping that is not a dict."""

    def __init__(self, items: dict[Any, Any]) -> None:
        self._items = items

    def __getitem__(self, key: Any) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


# Pieces that make texts interesting to both: secrets of many shapes, controls, surrogates.
PIECES = [
    "Bearer abcdefgh12345678", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
    "sk-abcdefghijklmnop1234",
    "ghp_" + "a" * 24, "AKIAIOSFODNN7EXAMPLE", "https://user:hunter2@example.com/x",
    "https://example.com/x?api_key=abcd1234", '"password": "hunter2"', "token='abcdef'",
    "Authorization: Basic x", "Author\u0131zation: y", "X-Api-Key: abcdef", "Cookie: session=abc",
    "Basic dXNlcjpwYXNzd29yZA", "4111 1111 1111 1111", "4111111111111111", "deadbeef" * 8,
    "-----BEGIN RSA PRIVATE KEY-----\nMIIB", "xoxb-1234567890ab", "glpat-" + "c" * 24,
    "sk_live_abcdefgh1234", "AIza" + "S" * 35, "password=hunter2", "a=b", "k=v&token=x",
    "\ud800", "\udfff", "\ud83d\ude00", "\u202e", "\u2066", "\u200f", "\x00", "\x1b", "\x85",
    "\u2028", "\xa0", "\t", "\n", " ", "€", "東京", "\u0130", "\u0131", "\u017f", "\u212a",
    "{", "[", '"', "'", "\\", ":", "=", "-", "_", "@", "/", "#", "?", "&", ";", "%2F", "&amp;",
    "0x", "1234567890123", "name", "value", "Authorization", "api_key", "token", "password",
    "max_tokens",
]  # fmt: skip
texts = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=6),
    st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=4).map("".join),
)
strings = st.one_of(texts, texts.map(Text), st.just(Colour.TOKEN))
keys = st.one_of(
    strings,
    st.sampled_from(["name", "value", "key", "header", "Authorization", "api_key", "values"]),
    st.sampled_from([1, 0, -3, True, False, None, 1.5, (1, "a"), 2**64, Count.FIVE]),
)
numbers = st.one_of(
    st.integers(),
    st.sampled_from([10**12, 4111111111111111, -4111111111111111, 2**4096, 2**4096 + 1]),
    st.sampled_from([-(2**4097), 10**19, 4.111111111111111e15, 4111111111111111.0, Count.FIVE]),
    st.floats(),
    st.booleans(),
)
json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), texts
)
leaves = st.one_of(
    json_leaves, numbers, strings, st.sampled_from([b"raw", frozenset({1}), float("nan")])
)

Wrap = Callable[[Any], Any]
_WRAPS: list[Wrap] = [
    lambda v: {"v": v},
    lambda v: [v],
    lambda v: (v,),
    lambda v: collections.OrderedDict(v=v),
    lambda v: Sub(v=v),
]


def _json_containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(texts, children, max_size=4),
        st.lists(st.tuples(st.sampled_from(PIECES), children), max_size=3),  # name-value pairs
    )


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    items = st.lists(st.tuples(keys, children), max_size=4)
    return st.one_of(
        _json_containers(children),
        st.lists(children, max_size=4).map(tuple),
        items.map(dict),
        items.map(collections.OrderedDict),
        items.map(Sub),
        items.map(lambda pairs: View(dict(pairs))),
        items.map(lambda pairs: types.MappingProxyType(dict(pairs))),
    )


@st.composite
def deep_values(draw: st.DrawFn, wraps: int = len(_WRAPS)) -> Any:
    """A leaf under 13 to 18 (or 63 to 66) levels of dicts and lists (and, unless ``wraps``
    is 2, tuples, ordered dicts and dict subclasses), the levels drawn at once."""
    inner = draw(json_leaves)
    depth = draw(st.sampled_from([13, 15, 16, 17, 18, 63, 64, 65, 66]))
    kinds = draw(st.integers(0, wraps**depth - 1))
    for _ in range(depth):
        kinds, kind = divmod(kinds, wraps)
        inner = _WRAPS[kind](inner)
    return inner


# Plain JSON (most of what callers send), and anything at all.
json_values = st.recursive(json_leaves, _json_containers, max_leaves=12)
_nested = st.recursive(leaves, _containers, max_leaves=12)
values = st.one_of(_nested, _nested, _nested, deep_values())  # deeply nested: one in four


@st.composite
def big_params(draw: st.DrawFn) -> dict[str, Any]:
    """Params near 64 KiB of compact JSON, of one- to three-byte characters, escapes
    (quotes, backslashes, controls, DEL) and lone surrogates; with a float or without."""
    size = draw(st.integers(65515, 65545))
    piece = draw(st.sampled_from(["x", "€", "\n", "\ud800", '"', "\\", "\x7f", "\x1f", "a\\u"]))
    extra: dict[str, Any] = draw(st.sampled_from([{}, {"f": 1.5}, {"n": [1, None]}]))
    each = len(json.dumps(piece, ensure_ascii=False)[1:-1].encode("utf-8", "surrogatepass"))
    room = size - len(json.dumps({"a": "", **extra}, separators=(",", ":")))
    return {"a": piece * (room // each), **extra}


def _dicts_of(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    items = st.lists(st.tuples(keys, children), max_size=5)
    return st.one_of(
        items.map(dict),
        items.map(collections.OrderedDict),
        items.map(Sub),
        items.map(lambda pairs: View(dict(pairs))),
    )


params = st.one_of(
    st.dictionaries(texts, json_values, max_size=6),
    st.dictionaries(strings, json_values, max_size=6),
    st.dictionaries(texts, st.one_of(json_values, deep_values(wraps=2)), max_size=3),
    _dicts_of(values),
    big_params(),
    st.sampled_from([None, [], "text", 3, [("a", 1)]]),
)
