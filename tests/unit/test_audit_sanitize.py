"""Secret shapes the outside audit found the sanitizer letting through: a secret name=value
at the start of a text or after white space (a form body's first field, an env file's
line), and a card number written as a float (``4111111111111111.0``)."""

from __future__ import annotations

import pytest

from proofqueue.domain.sanitize import REDACTED, redact_text, sanitize, secret_values


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


@pytest.mark.parametrize("number", [4111111111111111.0, 5555555555554444.0, 378282246310005.0])
def test_a_card_number_written_as_a_float_is_redacted(number: float) -> None:
    public, paths = sanitize({"card": number})
    assert public == {"card": REDACTED}
    assert paths == ["params.card"]
    assert secret_values({"card": number})  # a vendor's echo of it is redacted too


@pytest.mark.parametrize("number", [4111111111111111.5, 4111111111111112.0, 1.5, 1e300])
def test_floats_that_are_not_card_numbers_are_kept(number: float) -> None:
    assert sanitize({"n": number}) == ({"n": number}, [])
