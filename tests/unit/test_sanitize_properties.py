"""Property tests: generated secrets of each hardened shape never survive the sanitizer, and
generated harmless params come back unchanged."""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import quote

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from proofqueue.domain.sanitize import REDACTED, redact_text, redact_url, sanitize, secret_values
from tests.unit.test_domain_sanitize import leaks

ALNUM = string.ascii_letters + string.digits
# Secrets in URL queries: unreserved characters and percent escapes.
# "Zq" first: the value is not by chance a part of the URL around it.
query_values = st.text(alphabet=ALNUM + "-._~%", min_size=4, max_size=40).map(lambda v: f"Zq{v}")
QUERY_NAMES = [
    "api_key", "apiKey", "token", "access_token", "X-Amz-Signature", "X-Amz-Credential",
    "X-Amz-Security-Token", "sig", "signature", "password", "key", "secret", "client_secret",
    "auth", "refresh_token", "X-Goog-Credential",
]  # fmt: skip
HEADER_NAMES = [
    "Authorization", "authorization", "X-Api-Key", "x-auth-token", "Cookie", "Proxy-Authorization",
    "X-Amz-Security-Token", "api-key", "X-Client-Secret",
]  # fmt: skip
# Not "bearer" or "basic": a sentence of words may then spell a credential ("bearer abcdefgh").
words = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10).filter(
    lambda word: word not in {"bearer", "basic"}
)
hosts = st.sampled_from(["api.example.com", "s3.eu-west-1.amazonaws.com", "10.0.0.7:8443"])
paths = st.lists(words, max_size=3).map(lambda ws: "/" + "/".join(ws))
plain_query = st.lists(st.tuples(st.sampled_from(["q", "size", "page", "sort"]), words), max_size=3)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(QUERY_NAMES),
    value=query_values,
    host=hosts,
    path=paths,
    before=plain_query,
    after=plain_query,
    sep=st.sampled_from(["?", "#"]),
)
def test_a_generated_credential_in_a_url_query_never_survives(
    name: str,
    value: str,
    host: str,
    path: str,
    before: list[tuple[str, str]],
    after: list[tuple[str, str]],
    sep: str,
) -> None:
    """https://host/path?..&<credential>=<value>&..: the value is gone, the rest is kept."""
    query = [*(f"{k}={v}" for k, v in before), f"{name}={value}", *(f"{k}={v}" for k, v in after)]
    url = f"https://{host}{path}{sep}" + "&".join(query)
    public, redacted = sanitize({"callback": url, "note": f"see {url} now"})
    assert not leaks(value, public)
    assert redacted == ["params.callback", "params.note"]
    assert public["callback"] == url.replace(f"{name}={value}", f"{name}={REDACTED}")
    assert value not in redact_url(url)
    assert value not in redact_text(url)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(HEADER_NAMES),
    value=st.text(min_size=5, max_size=30).map(lambda v: f"Σ{v}"),
    others=st.lists(st.tuples(st.sampled_from(["Accept", "User-Agent", "Host"]), words)),
    form=st.sampled_from(["pairs", "tuples", "name/value", "header/value"]),
    at=st.integers(0, 3),
)
def test_a_generated_secret_header_value_never_survives(
    name: str, value: str, others: list[tuple[str, str]], form: str, at: int
) -> None:
    """Header lists as pairs or name/value objects: a secret header's value is redacted."""
    headers: list[Any] = [list(pair) for pair in others]
    headers.insert(min(at, len(headers)), [name, value])
    if form == "tuples":
        headers = [tuple(h) for h in headers]
    elif form != "pairs":
        label = form.split("/")[0]
        headers = [{label: h[0], "value": h[1]} for h in headers]
    public, redacted = sanitize({"request": {"headers": headers}})
    assert not leaks(value, public)
    assert redacted
    if len(value) >= 3:
        assert value in secret_values({"request": {"headers": headers}})


# Secrets of any characters, for JSON echoes: unicode, quotes, backslashes, slashes.
SCAFFOLD = '{"error":"invalid","echo":{"password":}}'
echo_secrets = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=3, max_size=30
).filter(
    # Nor a piece of what stays around it (the placeholder, the body's own words).
    lambda s: s.strip() != "" and REDACTED not in s and s not in SCAFFOLD + REDACTED
)
ENCODINGS = {
    "ascii": lambda s: json.dumps(s),
    "utf8": lambda s: json.dumps(s, ensure_ascii=False),
    "slash": lambda s: json.dumps(s).replace("/", "\\/"),
    "double": lambda s: json.dumps(json.dumps(s)),
    "percent": lambda s: quote(s, safe=""),
}


@settings(max_examples=200, deadline=None)
@given(secret=echo_secrets, encoding=st.sampled_from(sorted(ENCODINGS)))
def test_a_generated_known_secret_echoed_escaped_never_survives(secret: str, encoding: str) -> None:
    """A vendor body echoing the secret JSON-escaped (or percent-encoded) loses it."""
    encoded = ENCODINGS[encoding](secret)
    body = '{"error":"invalid","echo":{"password":' + encoded + "}}"
    out = redact_text(body, [secret])
    inner = encoded[1:-1] if encoded.startswith('"') else encoded
    assert inner not in out
    assert secret not in out
    assert '{"error":"invalid"' in out


@settings(max_examples=80, deadline=None)
@given(
    secret=st.text(alphabet=ALNUM + "äé€/\\\"'!- ", min_size=8, max_size=24).filter(
        lambda s: s.strip() == s and REDACTED not in s
    ),
    encoding=st.sampled_from(["raw", "ascii", "utf8", "slash"]),
    ellipsis=st.sampled_from(["", "...", "…"]),
)
def test_a_known_secret_cut_off_at_any_point_shows_no_part_of_it(
    secret: str, encoding: str, ellipsis: str
) -> None:
    """Truncate the echo at every cut point: the visible beginning of the secret is gone once
    it is 4 characters or more."""
    head = "422 unprocessable: field password was "
    assume(secret[:4] not in head)  # the text around it may spell its first letters
    encoded = secret if encoding == "raw" else ENCODINGS[encoding](secret)[1:-1]
    body = head + encoded + " (rejected)"
    for cut in range(len(head) + 1, len(head) + len(encoded)):
        part = body[len(head) : cut]
        out = redact_text(body[:cut] + ellipsis, [secret])
        whole = next(part[:k] for k in range(len(part), -1, -1) if _whole(part[:k]))
        shown = whole if encoding == "raw" else json.loads('"' + whole + '"')
        if len(shown) >= 4:  # (the marker itself may spell part of it: "REDA...")
            assert whole not in out.replace(REDACTED, ""), (cut, out)


def _whole(part: str) -> bool:
    """Whether ``part`` is a complete JSON string body (no escape cut in half)."""
    try:
        json.loads('"' + part + '"')
    except ValueError:
        return False
    return True


@settings(max_examples=100, deadline=None)
@given(
    secret=st.text(alphabet=ALNUM + "-_", min_size=12, max_size=40),
    start=st.integers(0, 30),
    size=st.integers(8, 40),
)
def test_any_fragment_of_eight_characters_of_a_known_secret_is_redacted(
    secret: str, start: int, size: int
) -> None:
    """A long-enough piece of a known secret, anywhere in the text, never survives."""
    fragment = secret[start : start + size]
    if len(fragment) < 8:
        return
    out = redact_text(f"vendor said: {fragment} is wrong", [secret])
    assert fragment not in out
    assert out.startswith("vendor said: ")


# -- harmless params are kept ---------------------------------------------------------------

wallets = st.text(alphabet="0123456789abcdefABCDEF", min_size=40, max_size=40).map(
    lambda h: "0x" + h
)
amounts = st.one_of(
    st.integers(0, 10**9),
    st.decimals(0, 10**6, places=2, allow_nan=False, allow_infinity=False).map(str),
    st.floats(0, 10**6, allow_nan=False, allow_infinity=False),
)
dates = st.dates().map(lambda d: d.isoformat())
sentences = st.lists(words, min_size=1, max_size=8).map(" ".join)
plain_urls = st.builds(
    lambda host, path, q: f"https://{host}{path}" + ("?" + "&".join(f"{k}={v}" for k, v in q)),
    hosts,
    paths,
    plain_query,
)
harmless = st.one_of(wallets, amounts, dates, sentences, plain_urls, words)
keys = st.sampled_from(
    ["title", "recipient", "amount", "currency", "due", "note", "size", "max_tokens", "url"]
)


@settings(max_examples=200, deadline=None)
@given(
    params=st.dictionaries(
        keys,
        st.one_of(harmless, st.lists(harmless, max_size=3), st.dictionaries(keys, harmless)),
        max_size=6,
    )
)
def test_generated_harmless_params_come_back_unchanged(params: dict[str, Any]) -> None:
    """Words, amounts, 0x wallet addresses, dates and plain URLs are kept, nothing reported."""
    assert sanitize(params) == (params, [])
    text = json.dumps(params)
    assert redact_text(text) == text
