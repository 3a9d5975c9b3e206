"""Secret shapes the outside audit found the sanitizer letting through: a secret name=value
at the start of a text or after white space (a form body's first field, an env file's
line)."""

from __future__ import annotations

import pytest

from proofqueue.domain.sanitize import REDACTED, redact_text, sanitize


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("password=hunter2", f"password={REDACTED}"),
        ("password=hunter2&user=bob", f"password={REDACTED}&user=bob"),
        ("login with api_key=zq9Xk2Lm please", f"login with api_key={REDACTED} please"),
        ("DB_PASSWORD=hunter2\nDEBUG=1", f"DB_PASSWORD={REDACTED}\nDEBUG=1"),
        ("x=1 token=abcd1234efgh5678", f"x=1 token={REDACTED}"),
    ],
)
def test_a_bare_secret_name_value_pair_is_redacted(text: str, shown: str) -> None:
    assert redact_text(text) == shown
    public, paths = sanitize({"note": text})
    assert public == {"note": shown}
    assert paths == ["params.note"]
    assert "hunter2" not in str(public)


@pytest.mark.parametrize(
    "text", ["size=large", "pass=3", "n=4 tokens=5", "a==b", "color=blue&size=4", "x = password"]
)
def test_ordinary_name_value_pairs_are_kept(text: str) -> None:
    assert redact_text(text) == text
