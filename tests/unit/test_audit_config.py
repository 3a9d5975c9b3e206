"""Configuration mistakes the outside audit found answered as "unexpected error" (exit 1)
instead of one ``proofqueue:`` line and exit 2: a PostgreSQL URL whose host is a broken
IPv6 literal (``urlsplit`` raises on it), a vendor API key that cannot be sent as a header."""

from __future__ import annotations

import pytest

from proofqueue import Settings
from proofqueue.adapters.store import check_store
from proofqueue.domain.errors import ConfigurationError


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:SECRETPW@[::1/db", "postgresql://u:SECRETPW@[::1", "postgres://[x]:5/db"],
)
def test_a_postgresql_url_with_a_broken_ipv6_host_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_store(url)  # what every command and ProofQueue(...) run before opening
    message = str(caught.value)
    assert "PROOFQUEUE_STORE" in message
    assert "SECRETPW" not in message
    assert "\n" not in message


@pytest.mark.parametrize("key", ["SECRETAPI\ndef", "SECRETAPI\x00", "SECRETAPIé"])
def test_a_vendor_api_key_that_cannot_be_a_header_is_a_configuration_error(key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"PROOFQUEUE_VENDOR_API_KEY": key})
    message = str(caught.value)
    assert "PROOFQUEUE_VENDOR_API_KEY" in message
    assert "SECRETAPI" not in message
    assert "\n" not in message
