"""The sanitizer (``proofqueue.domain.sanitize``): secrets never reach a public view."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue.domain.canonical import key_path
from proofqueue.domain.sanitize import (
    REDACTED,
    is_secret_key,
    redact_text,
    sanitize,
    secret_values,
)

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
    "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\n"
    "-----END RSA PRIVATE KEY-----"
)
WALLET = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
OTHER_WALLET = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
HEX_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

SECRET_VALUES = {
    "bearer token": "Bearer abcDEF123456._~+/=-xyz",
    "jwt": JWT,
    "visa with spaces": "4111 1111 1111 1111",
    "visa with dashes": "4111-1111-1111-1111",
    "visa plain": "4111111111111111",
    "amex 4-6-5": "3782 822463 10005",
    "64 hex key": HEX_KEY,
    "0x hex key": "0x" + HEX_KEY,
    "pem private key": PEM,
    "openai key": "sk-proj-AbCdEf0123456789xyz",
    "stripe key": "sk_live_51HxYzAbCdEf",
    "github token": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "slack token": "xoxb-123456789012-abcdefABCDEF",
    "aws access key id": "AKIAIOSFODNN7EXAMPLE",
}

SECRET_KEYS = [
    "password",
    "Password",
    "passwd",
    "passphrase",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "api_key",
    "apiKey",
    "X-Api-Key",
    "authorization",
    "Authorization",
    "private_key",
    "privateKey",
    "mnemonic",
    "seed_phrase",
    "card number",
    "card_number",
    "cardNumber",
    "credit_card",
    "cvv",
    "CVV2",
    "cvc",
    "security_code",
    "pin",
    "otp",
    "cookie",
    "session_id",
    "aws_secret_access_key",
    "credentials",
    "iban",
    "jwt",
]


def strings_in(value: Any) -> Iterator[str]:
    """Every key and string leaf of a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, str):
        yield value


def leaks(secret: str, public: Any) -> bool:
    shown = json.dumps(public, ensure_ascii=False)
    return secret in shown or any(secret in text for text in strings_in(public))


# -- secret-looking keys --------------------------------------------------------------------


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_a_secret_looking_key_has_its_value_redacted(key: str) -> None:
    """The key stays (the shape of the params is visible); its value is replaced."""
    public, paths = sanitize({key: "hunter2-value", "size": "large"})
    assert public == {key: REDACTED, "size": "large"}
    assert paths == [key_path("params", key)]


@pytest.mark.parametrize(
    "value", [12345, 0, 3.5, ["a", "b"], {"nested": "x"}, True], ids=lambda v: type(v).__name__
)
def test_any_value_under_a_secret_key_is_redacted_whatever_its_type(value: Any) -> None:
    """Numbers, lists and objects under a secret key are redacted whole."""
    public, paths = sanitize({"api_key": value})
    assert public == {"api_key": REDACTED}
    assert paths == ["params.api_key"]


@pytest.mark.parametrize("empty", [None, "", [], {}])
def test_an_empty_value_under_a_secret_key_is_shown_as_empty(empty: Any) -> None:
    """Nothing to hide: an empty secret field stays empty and is not reported."""
    public, paths = sanitize({"password": empty})
    assert public == {"password": empty}
    assert paths == []


def test_secret_keys_are_redacted_at_any_depth() -> None:
    """Keys deep inside objects and lists are found, and each path is reported."""
    params = {
        "job": {"auth": {"client": {"token": "t0k3n-value"}}},
        "steps": [{"name": "a"}, {"name": "b", "credentials": {"user": "u", "pass": "p"}}],
    }
    public, paths = sanitize(params)
    assert public == {
        "job": {"auth": REDACTED},
        "steps": [{"name": "a"}, {"name": "b", "credentials": REDACTED}],
    }
    assert paths == ["params.job.auth", "params.steps[1].credentials"]
    assert "t0k3n-value" not in json.dumps(public)


@pytest.mark.parametrize(
    "key", ["title", "description", "size", "address", "wallet", "prompt", "keyword", "monkey"]
)
def test_ordinary_keys_are_not_secret(key: str) -> None:
    """Keys that merely resemble a secret key part are kept with their values."""
    assert not is_secret_key(key)
    assert sanitize({key: "visible"}) == ({key: "visible"}, [])


# -- secret-looking values ------------------------------------------------------------------


@pytest.mark.parametrize("secret", list(SECRET_VALUES.values()), ids=list(SECRET_VALUES))
def test_a_secret_looking_value_is_redacted_under_any_key(secret: str) -> None:
    """A value that looks like a credential is redacted even under an innocent key."""
    public, paths = sanitize({"note": secret})
    assert public == {"note": REDACTED}
    assert paths == ["params.note"]


@pytest.mark.parametrize("secret", list(SECRET_VALUES.values()), ids=list(SECRET_VALUES))
def test_a_secret_inside_free_text_is_cut_out_and_the_text_kept(secret: str) -> None:
    """Only the secret is replaced; the words around it stay readable."""
    public, _ = sanitize({"brief": {"lines": [f"use {secret} please"]}})
    assert public == {"brief": {"lines": [f"use {REDACTED} please"]}}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://alice:s3cretPass@example.com/hook", f"https://{REDACTED}@example.com/hook"),
        ("postgresql://pq:pw123456@db:5432/app", f"postgresql://{REDACTED}@db:5432/app"),
        ("amqp://guest:guest@rabbit/", f"amqp://{REDACTED}@rabbit/"),
    ],
)
def test_credentials_inside_a_url_are_redacted_and_the_host_kept(url: str, shown: str) -> None:
    """user:password@ in a URL is replaced; scheme, host and path stay."""
    assert sanitize({"callback": url}) == ({"callback": shown}, ["params.callback"])


def test_a_card_number_given_as_an_integer_is_redacted() -> None:
    """A Luhn-valid 16-digit integer is a card number too."""
    public, paths = sanitize({"n": 4111111111111111, "items": [5555555555554444]})
    assert public == {"n": REDACTED, "items": [REDACTED]}
    assert paths == ["params.n", "params.items[0]"]


def test_a_secret_in_a_key_hides_the_key() -> None:
    """A key that is itself a secret is replaced by a numbered placeholder."""
    public, paths = sanitize({"size": 1, f"note {HEX_KEY}": "x"})
    assert public == {"size": 1, f"{REDACTED}#1": "x"}
    assert HEX_KEY not in json.dumps(public)
    assert len(paths) == 1


@pytest.mark.parametrize(
    "value",
    [
        WALLET,
        WALLET.lower(),
        OTHER_WALLET,
        "Please draw a fox in blue and orange, 3 variants, 1024x1024.",
        "4111 1111 1111 1112",
        "1234567890123",
        "order 12345, due 2026-05-01",
        "deadbeef" * 7,
        "sk-short",
        "https://example.com/path?q=1",
        "user@example.com",
    ],
)
def test_non_secrets_are_kept(value: str) -> None:
    """Wallet addresses, prose, numbers failing Luhn and short hex pass unchanged."""
    assert sanitize({"note": value}) == ({"note": value}, [])


@pytest.mark.parametrize("number", [4111111111111112, 1234567890123, 42, -4111111111111111])
def test_integers_that_are_not_card_numbers_are_kept(number: int) -> None:
    """Luhn-invalid, short or negative integers are ordinary numbers."""
    assert sanitize({"n": number}) == ({"n": number}, [])


def test_sanitize_keeps_the_shape_and_leaves_the_input_alone() -> None:
    """The public copy has the same keys and nesting; the caller's params are not changed."""
    params = {"a": [1, 2.5, None, True, {"b": "x"}], "password": "p4ss-word"}
    before = json.dumps(params)
    public, _ = sanitize(params)
    assert public == {"a": [1, 2.5, None, True, {"b": "x"}], "password": REDACTED}
    assert json.dumps(params) == before


# -- redact_text and secret_values ----------------------------------------------------------


def test_redact_text_removes_known_secrets_from_free_text() -> None:
    """Values known to be secret are cut out of a vendor's message wherever they occur."""
    text = "422: field password='hunter22' invalid; retry with hunter22?"
    assert redact_text(text, ["hunter22"]) == (
        f"422: field password='{REDACTED}' invalid; retry with {REDACTED}?"
    )


def test_redact_text_removes_the_longest_known_secret_first() -> None:
    """An overlapping shorter secret does not leave the tail of a longer one visible."""
    assert redact_text("key=abcdef-tail", ["abc", "abcdef-tail"]) == f"key={REDACTED}"


def test_redact_text_ignores_empty_known_secrets_and_still_applies_patterns() -> None:
    """An empty known secret changes nothing; pattern secrets are redacted too."""
    assert redact_text("auth Bearer abcdefgh12345 ok", ["", "zzz"]) == f"auth {REDACTED} ok"


def test_secret_values_lists_every_scalar_under_secret_keys() -> None:
    """Scalars at any depth under secret keys, as text, at least 3 characters long."""
    params = {
        "a": {"password": ["abc", 1234, "x", None, True]},
        "token": 12345,
        "b": "public",
        "list": [{"cvv": "987"}],
    }
    assert secret_values(params) == {"abc", "1234", "12345", "987"}


# -- property: generated secrets never survive ----------------------------------------------

ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "_-"
# Text around a secret: no digits or word glue, so the secret stands as a token of its own.
filler = st.text(alphabet=string.ascii_letters + " ,.;!?()", max_size=12)
safe_keys = st.sampled_from(["note", "title", "style", "size", "colors", "brief", "lang"])
plain = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | filler,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(safe_keys, inner, max_size=3),
    max_leaves=6,
)


def chars(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=low, max_size=high)


# Issuer prefixes of the card networks: a Luhn-valid number without one is not a card.
ISSUER_PREFIXES = ["4", "51", "55", "2221", "2720", "34", "37", "6011", "65", "3528", "36", "62"]


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    """A Luhn-valid number of 13-19 digits, grouped by fours with spaces, dashes or nothing."""
    length = draw(st.integers(13, 19))
    prefix = draw(st.sampled_from(ISSUER_PREFIXES))
    rest = length - 1 - len(prefix)
    body = [
        *prefix,
        *draw(st.lists(st.sampled_from(string.digits), min_size=rest, max_size=rest)),
    ]
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    digits = "".join(body) + str((10 - total % 10) % 10)
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))


pem_keys = st.builds(
    lambda kind, body: (
        f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"
    ),
    st.sampled_from(["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "]),
    chars(ALNUM + "+/=\n", 16, 80),
)
url_credentials = st.builds(
    lambda scheme, user, password, host: f"{scheme}://{user}:{password}@{host}/x",
    st.sampled_from(["https", "postgresql", "amqp", "ftp"]),
    chars(ALNUM, 1, 10),
    chars(ALNUM + "!$&*+,;=", 8, 20),
    st.sampled_from(["example.com", "db.internal:5432", "10.0.0.7"]),
)
secrets = st.one_of(
    chars(ALNUM + "._~+/=-", 8, 40).map(lambda t: f"Bearer {t}"),
    st.builds(
        lambda a, b, c: f"eyJ{a}.{b}.{c}",
        chars(B64URL, 5, 30),
        chars(B64URL, 5, 30),
        chars(B64URL, 0, 30),
    ),
    card_numbers(),
    st.builds(
        lambda p, h: p + h, st.sampled_from(["", "0x"]), chars("0123456789abcdefABCDEF", 64, 90)
    ),
    pem_keys,
    chars(B64URL, 16, 40).map(lambda t: f"sk-{t}"),
    st.builds(lambda m, t: f"sk_{m}_{t}", st.sampled_from(["live", "test"]), chars(ALNUM, 8, 30)),
    st.builds(lambda c, t: f"gh{c}_{t}", st.sampled_from("pousr"), chars(ALNUM, 20, 40)),
    st.builds(lambda c, t: f"xox{c}-{t}", st.sampled_from("abprs"), chars(ALNUM + "-", 10, 40)),
    chars(string.ascii_uppercase + string.digits, 16, 16).map(lambda t: f"AKIA{t}"),
    url_credentials,
)


def core(secret: str) -> str:
    """The part that must never be shown (for a URL, the credentials, not the host)."""
    if "://" in secret:
        return secret.split("://", 1)[1].split("@", 1)[0]
    return secret


@st.composite
def params_holding(draw: st.DrawFn, secret: str) -> dict[str, Any]:
    """Generated params with ``secret`` somewhere: in a string or a key, at any depth."""
    text = f"{draw(filler)} {secret} {draw(filler)}"
    holder: Any = text
    if draw(st.booleans()):
        holder = {text: draw(plain)}
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            before = draw(st.lists(plain, max_size=2))
            holder = [*before, holder, *draw(st.lists(plain, max_size=2))]
        else:
            holder = {
                **draw(st.dictionaries(safe_keys, plain, max_size=2)),
                draw(safe_keys): holder,
            }
    others = draw(st.dictionaries(safe_keys, plain, max_size=3))
    return {**others, "payload": holder}


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_a_generated_secret_placed_anywhere_never_appears_in_the_public_params(
    data: st.DataObject,
) -> None:
    """For any secret of a known shape, anywhere in any params: not in json.dumps(public)."""
    secret = data.draw(secrets, label="secret")
    params = data.draw(params_holding(secret), label="params")
    public, paths = sanitize(params)
    assert not leaks(core(secret), public)
    assert core(secret) not in json.dumps(public)
    assert paths


@settings(max_examples=100, deadline=None)
@given(
    key=st.sampled_from(SECRET_KEYS),
    value=chars(ALNUM, 6, 20).map(lambda v: f"v-{v}"),
    where=st.lists(safe_keys, max_size=4),
)
def test_a_value_under_a_secret_key_never_appears_at_any_depth(
    key: str, value: str, where: list[str]
) -> None:
    """{..{key: value}..} nested under any path never shows ``value``."""
    params: dict[str, Any] = {key: value}
    for name in reversed(where):
        params = {name: [params]}
    public, paths = sanitize(params)
    assert not leaks(value, public)
    assert len(paths) == 1


@settings(max_examples=60, deadline=None)
@given(params=st.dictionaries(safe_keys, plain, max_size=5))
def test_params_without_secrets_come_back_unchanged(params: dict[str, Any]) -> None:
    """Ordinary params are shown as they are, with nothing reported."""
    assert sanitize(params) == (params, [])
