"""Which key names are secret: secret words, adjacent pairs, run-together words.

``is_secret_key`` judges a params key, a header or a field name; ``_is_secret_param`` a query
parameter name, where a signature or an hmac is the credential itself.
"""

from __future__ import annotations

import functools
import itertools
import re

# A key is secret when one of its words is, or two adjacent words are (``api_key``,
# ``cardNumber``), or one word ends with a secret word or pair (``apitoken``,
# ``awssecretaccesskey``). Words, not substrings: ``business_name`` holds no "ssn",
# ``max_tokens`` is not a token, ``tokenizer`` and ``secretary`` are no secrets.
_SECRET_WORDS = frozenset(
    {
        "password", "passwords", "passwd", "pwd", "passphrase", "secret", "secrets", "token",
        "apikey", "authorization", "auth", "privatekey", "mnemonic", "cvv", "cvc", "cvv2",
        "credential", "credentials", "cookie", "cookies", "bearer", "iban", "ssn", "pin",
        "otp", "pan", "jwt", "seed", "cardnumber", "creditcard", "sessionid",
    }
)  # fmt: skip
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"), ("private", "key"), ("secret", "key"), ("access", "key"),
        ("signing", "key"), ("encryption", "key"), ("card", "number"), ("card", "no"),
        ("credit", "card"), ("seed", "phrase"), ("session", "id"), ("security", "code"),
        ("client", "secret"), ("access", "token"), ("refresh", "token"), ("id", "token"),
        ("auth", "token"), ("session", "token"), ("account", "number"), ("routing", "number"),
    }
)  # fmt: skip
_SECRET_KEYS_EXACT = frozenset({"key"})
# Endings that make a run-together word secret (``dbpassword``, ``clientsecret``). Short
# words (pin, pan, ssn, otp, auth, seed) are left out: ``spinner``, ``japan``.
_SECRET_ENDINGS = tuple(
    sorted(
        {
            "password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey",
            "credential", "credentials", "mnemonic", "sessionid", "cardnumber", "creditcard",
        }
        | {a + b for a, b in _SECRET_PAIRS}
    )
)  # fmt: skip
# Beginnings with what may follow them (``passwordhash``; not ``passwordless``).
_SECRET_STARTS = ("password", "passwd", "passphrase", "secret", "apikey", "privatekey")
_SECRET_START_TAILS = frozenset(
    {"hash", "hashed", "digest", "salt", "confirm", "confirmation", "key", "keys", "value"}
)
# "token" followed by one of these counts language-model tokens: ``token_limit``.
_TOKEN_AMOUNTS = frozenset({"count", "counts", "limit", "limits", "budget", "usage", "type"})
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def _words(key: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(key)]


def _is_run_together_secret(word: str) -> bool:
    if word.endswith(_SECRET_ENDINGS):
        return True
    return any(
        word.startswith(start) and word[len(start) :] in _SECRET_START_TAILS
        for start in _SECRET_STARTS
    )


def is_secret_key(key: str) -> bool:
    """Whether a params key, a header or a field name names a secret."""
    if len(key) <= 64:  # the same few names come again and again: remembered
        return _is_secret_short(key)
    return _judge(key)


def _judge(key: str) -> bool:
    words = _words(key)
    if "".join(words) in _SECRET_KEYS_EXACT | _SECRET_WORDS:
        return True
    for i, word in enumerate(words):
        if word == "token" and i + 1 < len(words) and words[i + 1] in _TOKEN_AMOUNTS:
            continue
        if word in _SECRET_WORDS or _is_run_together_secret(word):
            return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


_is_secret_short = functools.lru_cache(maxsize=4096)(_judge)


# Query parameter names that are credentials in a URL though not as a params key: the
# signature of a presigned URL is the credential itself.
_QUERY_SECRET_WORDS = frozenset({"sig", "signature", "pass", "hmac"})


def _is_secret_param(name: str) -> bool:
    return is_secret_key(name) or any(w in _QUERY_SECRET_WORDS for w in _words(name))
