"""The public API reads as a reference: every name ``proofqueue`` exports is documented,
every public method of ``ProofQueue`` has a docstring of its own, and no parameter of it
is typed ``Any`` (``tests/typecheck/public_api.py`` checks the same through mypy)."""

from __future__ import annotations

import inspect
import pydoc
import typing
from collections.abc import Callable, Iterator

import pytest

import proofqueue
from proofqueue import ProofQueue


def public_methods() -> list[tuple[str, Callable[..., object]]]:
    """ProofQueue's public methods and properties (their getters), defined by proofqueue."""
    found = []
    for name, value in inspect.getmembers(ProofQueue):
        if name.startswith("_") and name not in ("__init__", "__enter__", "__exit__"):
            continue
        if isinstance(value, property) and value.fget is not None:
            found.append((name, value.fget))
        elif callable(value) and getattr(value, "__module__", "").startswith("proofqueue"):
            found.append((name, value))
    return found


def documented(item: object) -> bool:
    """A docstring of its own (a dataclass's generated ``Name(field: type, ...)`` is not)."""
    own = item.__dict__.get("__doc__") if isinstance(item, type) else item.__doc__
    name = getattr(item, "__name__", "")
    return bool(own and own.strip() and not own.startswith(f"{name}("))


def any_in(hint: object) -> Iterator[object]:
    """Every ``Any`` inside a type hint (in unions, generics, aliases)."""
    if hint is typing.Any:
        yield hint
        return
    value = getattr(hint, "__value__", None)  # a TypeAliasType (JsonValue): not recursed into
    if value is not None:
        return
    for arg in typing.get_args(hint):
        yield from any_in(arg)


EXPORTED = [
    name
    for name in proofqueue.__all__
    if inspect.isclass(getattr(proofqueue, name)) or inspect.isfunction(getattr(proofqueue, name))
]


def test_the_public_methods_are_found() -> None:
    """The walk finds the facade's methods (so the checks below check something)."""
    names = {name for name, _ in public_methods()}
    assert {"submit", "asubmit", "list", "health", "show", "workers", "settings"} <= names
    assert len(EXPORTED) > 30


@pytest.mark.parametrize(("name", "method"), public_methods(), ids=lambda v: str(v)[:30])
def test_every_public_method_of_proofqueue_has_a_docstring(
    name: str, method: Callable[..., object]
) -> None:
    """``help(ProofQueue)`` reads as a reference: no method without its own words."""
    assert documented(method), f"ProofQueue.{name} has no docstring"


@pytest.mark.parametrize(("name", "method"), public_methods(), ids=lambda v: str(v)[:30])
def test_no_parameter_of_the_public_api_is_any(name: str, method: Callable[..., object]) -> None:
    """Every parameter has a real type: an ``Any`` would let ``submit(42, actor=None)``
    type-check."""
    hints = typing.get_type_hints(method)
    hints.pop("return", None)
    loose = {param: hint for param, hint in hints.items() if list(any_in(hint))}
    assert loose == {}, f"ProofQueue.{name}"


@pytest.mark.parametrize("name", EXPORTED)
def test_every_exported_class_and_function_has_a_docstring(name: str) -> None:
    """Whatever ``from proofqueue import ...`` gives is documented where it is defined."""
    assert documented(getattr(proofqueue, name)), f"proofqueue.{name} has no docstring"


def test_help_of_proofqueue_shows_each_method_with_its_types() -> None:
    """``help(ProofQueue)`` names the methods with typed signatures and their docs."""
    text = pydoc.plain(pydoc.render_doc(ProofQueue))
    assert "submit(self, request_id: 'str', *, actor: 'str', target: 'str'" in text
    assert "health(self) -> 'Health'" in text
    assert "Any" not in text.split("Methods inherited")[0]


def test_a_check_of_the_any_walk_can_fail() -> None:
    """``any_in`` finds an Any nested in a union or a generic."""
    assert list(any_in(dict[str, typing.Any] | None))
    assert not list(any_in(dict[str, int] | None))
