"""The README's bring-your-own-vendor example runs as it stands, with an async vendor."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from proofqueue import Status

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- example: bring-your-own-vendor -->"


def example() -> str:
    """The python block right after the marker."""
    found = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", README.read_text(), re.S)
    assert found, f"the README has no python block after {MARKER}"
    return found.group(1)


def test_the_readme_vendor_example_settles_its_intent_exactly_once() -> None:
    """The async vendor of the example is accepted; after an ambiguous 502 the order is
    looked up, not placed again: one order at the shop, one Submitted, SETTLED."""
    space: dict[str, object] = {"__name__": "readme_vendor"}
    exec(compile(example(), "README.md", "exec"), space)  # noqa: S102
    assert inspect.iscoroutinefunction(space["PrintShop"].create_job)  # type: ignore[attr-defined]
    sdk, receipt = space["sdk"], space["receipt"]
    assert len(sdk.orders) == 1  # type: ignore[attr-defined]
    assert receipt.status == Status.SETTLED  # type: ignore[attr-defined]
    assert receipt.attempts == 2  # type: ignore[attr-defined]
