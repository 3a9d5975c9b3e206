"""Secret shapes the sanitizer once let through: one example test per shape.

Each test pins a shape that ``sanitize`` / ``redact_text`` returned unchanged before the
hardening in ``proofqueue.domain.sanitize``; the false-positive tests pin what stays visible.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from proofqueue.domain.sanitize import (
    REDACTED,
    is_secret_key,
    redact_text,
    redact_url,
    sanitize,
    secret_values,
)

SECRET = "Zq7-Xv93kLmN0pR"


def shown(public: Any) -> str:
    return json.dumps(public, ensure_ascii=False)


# -- credentials in URL query strings -------------------------------------------------------

QUERY_NAMES = [
    "api_key",
    "apikey",
    "token",
    "access_token",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "X-Goog-Signature",
    "sig",
    "signature",
    "password",
    "pass",
    "key",
    "secret",
    "client_secret",
]


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_a_credential_in_a_url_query_is_redacted_and_the_url_shape_kept(name: str) -> None:
    """?name=value with a credential name: the value is replaced, the rest of the URL kept."""
    url = f"https://api.example.com/v1/items?size=large&{name}={SECRET}&page=2"
    public, paths = sanitize({"callback": url})
    assert public == {
        "callback": f"https://api.example.com/v1/items?size=large&{name}={REDACTED}&page=2"
    }
    assert paths == ["params.callback"]


def test_a_credential_in_a_url_fragment_is_redacted() -> None:
    """OAuth implicit-flow redirects carry #access_token=...; the token is replaced."""
    public, _ = sanitize({"u": f"https://app.example.com/cb#access_token={SECRET}&state=x"})
    assert public == {"u": f"https://app.example.com/cb#access_token={REDACTED}&state=x"}


def test_an_ordinary_url_query_is_kept() -> None:
    """Query parameters that name no credential stay as they are."""
    url = "https://shop.example.com/search?q=blue+shoes&size=42&sort=price"
    assert sanitize({"u": url}) == ({"u": url}, [])


# -- Basic and Bearer credentials -----------------------------------------------------------


def test_a_basic_credential_anywhere_in_a_string_is_redacted() -> None:
    """'Authorization: Basic <base64 of user:pass>' inside text loses the credential."""
    public, paths = sanitize({"note": "send Authorization: Basic dXNlcjpwYXNz please"})
    assert "dXNlcjpwYXNz" not in shown(public)
    assert paths == ["params.note"]


def test_a_short_bearer_token_after_an_authorization_header_is_redacted() -> None:
    """'Authorization: Bearer abc123' is a credential however short the token."""
    public, paths = sanitize({"note": "Authorization: Bearer abc123"})
    assert "abc123" not in shown(public)
    assert paths == ["params.note"]


def test_a_bearer_token_with_a_pipe_is_redacted_whole() -> None:
    """Laravel Sanctum tokens look like '12|AbCdEf...': nothing after the pipe is shown."""
    public, _ = sanitize({"note": "use Bearer 12|AbCdEfGhIjKlMnOp now"})
    assert "AbCdEfGhIjKlMnOp" not in shown(public)


@pytest.mark.parametrize(
    "text", ["a basic information sheet", "Basic plan, 3 seats", "the bearer of this card"]
)
def test_the_words_basic_and_bearer_in_prose_are_kept(text: str) -> None:
    """Only base64 of 'user:pass' after Basic is a credential; plain prose is not."""
    assert sanitize({"note": text}) == ({"note": text}, [])


# -- header-pair lists ----------------------------------------------------------------------


def test_a_header_pair_list_has_the_value_of_a_secret_header_redacted() -> None:
    """[["Authorization", S], ["X-Api-Key", S2]]: each value is secret because of its name."""
    params = {"headers": [["Accept", "json"], ["Authorization", "S-one"], ["X-Api-Key", "S-two"]]}
    public, paths = sanitize(params)
    assert public == {
        "headers": [["Accept", "json"], ["Authorization", REDACTED], ["X-Api-Key", REDACTED]]
    }
    assert paths == ["params.headers[1][1]", "params.headers[2][1]"]


def test_a_name_value_header_list_has_the_value_of_a_secret_header_redacted() -> None:
    """[{"name": "Authorization", "value": S}] (HAR, Postman): the value is secret."""
    params = {
        "headers": [
            {"name": "Accept", "value": "json"},
            {"name": "Authorization", "value": "S-one"},
            {"key": "x-api-key", "value": "S-two"},
        ]
    }
    public, paths = sanitize(params)
    assert public == {
        "headers": [
            {"name": "Accept", "value": "json"},
            {"name": "Authorization", "value": REDACTED},
            # "key" alone is a secret key name (as before), so the name is hidden too.
            {"key": REDACTED, "value": REDACTED},
        ]
    }
    assert paths == [
        "params.headers[1].value",
        "params.headers[2].key",
        "params.headers[2].value",
    ]


def test_secret_values_include_values_named_by_a_sibling() -> None:
    """Vendor echoes of header values are redacted too: secret_values lists them."""
    params = {
        "headers": [["Authorization", "S-one"]],
        "fields": [{"name": "password", "value": "S-two"}],
    }
    assert secret_values(params) == {"S-one", "S-two"}


@pytest.mark.parametrize(
    "params",
    [
        {"tags": ["pin", "badge"]},
        {"items": [{"name": "Password manager, family plan", "value": 30}]},
        {"pairs": [["size", "large"], ["color", "blue"]]},
    ],
)
def test_lists_and_objects_that_only_resemble_header_pairs_are_kept(params: Any) -> None:
    """A plain two-word list or a product named 'Password manager' is not a credential."""
    assert sanitize(params) == (params, [])


# -- concatenated key names -----------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "secretkey",
        "SECRETKEY",
        "apitoken",
        "authtoken",
        "privatekey",
        "clientsecret",
        "accesstoken",
        "sessiontoken",
        "refreshtoken",
        "apikey",
        "apisecret",
        "passwordhash",
        "dbpassword",
        "webhooksecret",
        "awssecretaccesskey",
        "x_apikey",
    ],
)
def test_a_concatenated_secret_key_name_is_secret(key: str) -> None:
    """Names written without separators or case changes are still secret keys."""
    assert is_secret_key(key)
    assert sanitize({key: "v-1234"}) == ({key: REDACTED}, [f"params.{key}"])


@pytest.mark.parametrize(
    "key",
    [
        "business_name",
        "max_tokens",
        "maxtokens",
        "tokenizer",
        "tokens",
        "token_count",
        "token_limit",
        "secretary",
        "monkey",
        "turkey",
        "keyword",
        "passwordless",
        "spinner",
    ],
)
def test_ordinary_names_that_contain_a_secret_word_are_not_secret(key: str) -> None:
    """A secret word inside a longer ordinary word, or LLM token counts, is not a secret."""
    assert not is_secret_key(key)


# -- PEM and PGP private keys ---------------------------------------------------------------

PGP = (
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
    "lQOYBF9pZ3IBCADXzbx6tZ8v7pQ3Xh2G8h0JrCk0iLw1\n"
    "=Qd3r\n"
    "-----END PGP PRIVATE KEY BLOCK-----"
)
OPENSSH_CUT = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
EC_CUT = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY"


@pytest.mark.parametrize(
    "key_text",
    [PGP, PGP[:70], OPENSSH_CUT, EC_CUT],
    ids=["pgp", "pgp cut off", "openssh cut off", "ec cut off"],
)
def test_a_private_key_block_is_redacted_also_when_cut_off(key_text: str) -> None:
    """PGP and PEM private key blocks, with or without their END line, are redacted."""
    body = key_text.split("\n", 1)[1].strip()[:20]
    public, paths = sanitize({"note": f"key: {key_text}"})
    assert body not in shown(public)
    assert paths == ["params.note"]
    assert body not in redact_text(json.dumps({"echo": key_text}))


# -- redact_text on vendor echoes -----------------------------------------------------------

ODD_SECRET = 'pä"ss\\w/rd-€-1234'


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: json.dumps(s),
        lambda s: json.dumps(s, ensure_ascii=False),
        lambda s: json.dumps(s).replace("/", "\\/"),
        lambda s: json.dumps(json.dumps(s)),
        lambda s: re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), json.dumps(s)),
    ],
    ids=["ascii escapes", "quotes and backslashes", "escaped slash", "double", "upper hex"],
)
def test_a_known_secret_echoed_json_escaped_is_redacted(encode: Any) -> None:
    """A vendor that echoes the request as JSON escapes the secret; it is still found."""
    body = '{"error": "bad request", "echo": {"password": ' + encode(ODD_SECRET) + "}}"
    out = redact_text(body, [ODD_SECRET])
    assert encode(ODD_SECRET)[1:-1] not in out
    assert "bad request" in out


def test_a_known_secret_echoed_url_encoded_is_redacted() -> None:
    """Form or query echoes percent-encode the secret; it is still found."""
    out = redact_text("rejected: password=p%C3%A4ss%40word%2F99&x=1", ["päss@word/99"])
    assert "p%C3%A4ss%40word" not in out


def test_a_known_secret_cut_off_at_the_end_of_a_body_is_redacted() -> None:
    """A body truncated in the middle of a secret does not show the secret's first part."""
    secret = "hunter2-correct-horse-battery"
    body = f'{{"error": "invalid", "echo": "{secret}"}}'
    start = len('{"error": "invalid", "echo": "')
    for cut in range(start + 4, start + len(secret)):
        text = body[:cut] + "..."
        visible = body[start:cut]
        assert visible not in redact_text(text, [secret]), cut


def test_a_long_fragment_of_a_known_secret_is_redacted_anywhere() -> None:
    """Eight characters or more of a known secret, anywhere in the text, are redacted."""
    out = redact_text("got 'correct-horse' in field", ["hunter2-correct-horse-battery"])
    assert "correct-horse" not in out
    assert out.startswith("got '")
    assert out.endswith("' in field")


# -- redact_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "printed"),
    [
        ("postgresql://u:p@ss@host/db", f"postgresql://{REDACTED}@host/db"),
        ("postgresql://app:pw/with/slash@db:5432/app", f"postgresql://{REDACTED}@db:5432/app"),
        ("redis://:hunter2@cache:6379/0", f"redis://{REDACTED}@cache:6379/0"),
        ("https://tok3n@hooks.example.com/x", f"https://{REDACTED}@hooks.example.com/x"),
        (
            "https://s3.example.com/b/o?X-Amz-Credential=AKID%2F20260101&X-Amz-Signature=fe5f80",
            f"https://s3.example.com/b/o?X-Amz-Credential={REDACTED}&X-Amz-Signature={REDACTED}",
        ),
        ("https://example.com:8443/users/@me?q=1", "https://example.com:8443/users/@me?q=1"),
        ("sqlite:///var/lib/pq.db", "sqlite:///var/lib/pq.db"),
        ("https://example.com/path?q=1", "https://example.com/path?q=1"),
    ],
)
def test_redact_url_strips_userinfo_and_query_credentials(url: str, printed: str) -> None:
    """A configured URL printed in logs shows scheme, host, path; never a credential."""
    assert redact_url(url) == printed


def test_a_url_password_with_a_raw_at_sign_is_fully_redacted_by_sanitize() -> None:
    """postgresql://u:p@ss@host/db: the password part after the '@' is not shown either."""
    public, _ = sanitize({"dsn": "postgresql://u:p@ss@host/db"})
    assert public == {"dsn": f"postgresql://{REDACTED}@host/db"}


def test_the_digits_of_a_decimal_number_are_not_taken_for_a_card() -> None:
    """A float's fraction (or its whole part) that happens to pass Luhn is no card number."""
    assert redact_text('{"title": 256.2706380092932}') == '{"title": 256.2706380092932}'
    assert redact_text("4111111111111111.5") == "4111111111111111.5"
    assert "4111" not in redact_text("card 4111 1111 1111 1111.")
