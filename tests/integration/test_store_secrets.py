"""Secrets in params never reach the store or any output in the clear."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from proofqueue import JsonValue
from proofqueue.domain.canonical import canonical
from tests.integration.helpers import (
    Ran,
    RawStore,
    assert_clean_refusal,
    log_counts,
    open_queue,
    run_cli,
    run_cli_many,
)

PASSWORD = "hunter2-XYZZY-secret"
CARD = "4111 1111 1111 1111"
API_KEY = "ak-NESTED-0451-secret"
PARAMS: dict[str, JsonValue] = {
    "password": PASSWORD,
    "card": CARD,
    "vendor": {"api_key": API_KEY},
    "note": "visible-CANARY-42",
}
# Every spelling of a secret an intruder could search for.
SECRETS = (PASSWORD, CARD, CARD.replace(" ", ""), API_KEY)
CANARY = "visible-CANARY-42"  # not a secret: proves the searches below can find things


def spellings(text: str) -> list[bytes]:
    """The value as raw bytes, and hex-encoded (how PostgreSQL prints bytea as text)."""
    raw = text.encode()
    return [raw, raw.hex().encode()]


def leaks(haystack: bytes) -> list[str]:
    """Which secrets (or the plain sha256 of the params) appear in ``haystack``."""
    found = [s for s in SECRETS if any(form in haystack for form in spellings(s))]
    plain_digest = hashlib.sha256(canonical(PARAMS)).hexdigest()
    if plain_digest.encode() in haystack:
        found.append("sha256(params): a guessable digest of the secret")
    return found


@pytest.fixture(scope="module")
def cipher_key() -> str:
    """A key from ``proofqueue key``: base64 of 32 random bytes."""
    ran = run_cli(":memory:", "key")
    assert ran.code == 0, str(ran)
    key = ran.stdout.strip()
    assert len(base64.b64decode(key, validate=True)) == 32
    return key


SUBMIT = ("submit", "--request-id", "order-s", "--actor", "agent-7", "--target", "0xP/logo")
# Every command that prints something about the intent, in text and as JSON.
READS: tuple[tuple[str, ...], ...] = (
    ("show", "order-s"),
    ("show", "order-s", "--json"),
    ("receipt", "order-s"),
    ("receipt", "order-s", "--json"),
    ("list",),
    ("list", "--json"),
    ("health",),
    ("health", "--json"),
    ("verify", "--all"),
    ("verify", "order-s", "--json"),
)


def assert_nothing_leaked(store: str, outputs: list[Ran], cipher_key: str) -> None:
    """No secret in any output nor anywhere in the store; the params are sealed, not lost."""
    for ran in outputs:
        assert ran.code == 0, str(ran)
        assert not leaks(ran.output.encode()), f"secret in the output of\n{ran}"
    trail = next(ran for ran in outputs if ran.args == ("show", "order-s", "--json")).json()
    shown = trail["events"][0]["fields"]["params_public"]
    assert shown["note"] == CANARY
    assert shown["password"] == "[REDACTED]"
    stored = RawStore(store).everything()
    assert not leaks(stored), "secret stored in the clear"
    assert any(form in stored for form in spellings(CANARY)), "the search cannot see the store"
    with open_queue(store, cipher_key=cipher_key) as pq:
        sealed = pq.parts.log.intent("order-s").params_sealed
        assert sealed is not None
        assert pq.parts.sealer.open(sealed, "order-s") == PARAMS


def test_a_secret_sealed_under_a_key_is_in_no_stored_byte_and_no_command_output(
    store: str, cipher_key: str
) -> None:
    """Params submitted with a key are sealed: no secret in the store or any CLI output."""
    with open_queue(store, cipher_key=cipher_key) as pq:
        first = pq.submit("order-s", actor="agent-7", target="0xP/logo", params=PARAMS)
        assert pq.submit("order-s", actor="agent-7", target="0xP/logo", params=PARAMS) == first

    outputs = run_cli_many(store, READS)  # an operator without the key reads everything

    assert_nothing_leaked(store, outputs, cipher_key)


def test_a_secret_without_a_key_is_refused_with_how_to_make_one_and_nothing_is_written(
    store: str,
) -> None:
    """Without PROOFQUEUE_CIPHER_KEY, params holding a secret exit 2 and store nothing."""
    ran = run_cli(store, *SUBMIT, "--params-json", json.dumps(PARAMS))

    line = assert_clean_refusal(ran, 2, "params", "PROOFQUEUE_CIPHER_KEY", "proofqueue key")
    assert not leaks(line.encode())
    assert log_counts(store) == (0, 0)
    assert not leaks(RawStore(store).everything())


def test_a_cipher_key_that_is_not_32_bytes_of_base64_is_refused_with_how_to_make_one(
    sqlite_store: str,
) -> None:
    """A malformed key is refused on one line pointing at `proofqueue key`; nothing written."""
    bad = base64.b64encode(b"too short").decode()
    ran = run_cli(
        sqlite_store,
        *("submit", "--request-id", "order-k", "--actor", "agent-7", "--target", "0xP/logo"),
        *("--params-json", json.dumps(PARAMS)),
        env={"PROOFQUEUE_CIPHER_KEY": bad},
    )

    assert_clean_refusal(ran, 2, "PROOFQUEUE_CIPHER_KEY", "proofqueue key")
    assert log_counts(sqlite_store) == (0, 0)
