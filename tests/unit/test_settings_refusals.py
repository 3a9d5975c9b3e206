"""Settings refuse configuration mistakes with one ``ConfigurationError`` line each: unknown
``PROOFQUEUE_*`` variables (naming the closest known one), numbers that make no sense, a
vendor URL that is not http(s). The project's own test and tooling variables are known."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from proofqueue import Settings
from proofqueue.domain.backoff import RetryPolicy
from proofqueue.domain.breaker import BreakerPolicy
from proofqueue.domain.errors import ConfigurationError


def refusal(environ: dict[str, str]) -> str:
    """The one-line message ``Settings.from_env`` refuses ``environ`` with."""
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(environ)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("variable", "closest"),
    [
        ("PROOFQUEUE_CIPHERKEY", "PROOFQUEUE_CIPHER_KEY"),
        ("PROOFQUEUE_STOR", "PROOFQUEUE_STORE"),
        ("PROOFQUEUE_STORES", "PROOFQUEUE_STORE"),
        ("PROOFQUEUE_VENDOR_ULR", "PROOFQUEUE_VENDOR_URL"),
        ("PROOFQUEUE_VENDOR_APIKEY", "PROOFQUEUE_VENDOR_API_KEY"),
        ("PROOFQUEUE_RETRY_MAX_ATTEMPT", "PROOFQUEUE_RETRY_MAX_ATTEMPTS"),
        ("PROOFQUEUE_BREAKER_OPENS", "PROOFQUEUE_BREAKER_OPEN_S"),
        ("PROOFQUEUE_CONCURENCY", "PROOFQUEUE_CONCURRENCY"),
    ],
)
def test_an_unknown_variable_is_refused_naming_the_closest_known_one(
    variable: str, closest: str
) -> None:
    """A misspelt PROOFQUEUE_* variable is an error that suggests the name meant."""
    message = refusal({variable: "x", "PROOFQUEUE_STORE": "a.db"})
    assert variable in message
    assert f"did you mean {closest}?" in message


@pytest.mark.parametrize(
    "variable",
    [
        "PROOFQUEUE_TEST_POSTGRES_URL",
        "PROOFQUEUE_REQUIRE_POSTGRES",
        "PROOFQUEUE_CHAOS",
        "PROOFQUEUE_SOAK",
        "PROOFQUEUE_FAULTS_SEED",
        "PROOFQUEUE_PG_BINDIR",
        "PROOFQUEUE_PG_LIBDIR",
        "PROOFQUEUE_BENCH_INTENTS",
        "PROOFQUEUE_BENCH_ANYTHING_ELSE",
    ],
)
def test_the_projects_own_tooling_variables_are_known(variable: str) -> None:
    """Variables the tests and scripts set are accepted and change no setting."""
    settings = Settings.from_env({variable: "1", "PROOFQUEUE_STORE": "a.db"})
    assert settings == Settings(store="a.db")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PROOFQUEUE_CONNECT_TIMEOUT_S", "nan"),
        ("PROOFQUEUE_CONNECT_TIMEOUT_S", "inf"),
        ("PROOFQUEUE_READ_TIMEOUT_S", "-1"),
        ("PROOFQUEUE_LEASE_S", "0"),
        ("PROOFQUEUE_RECONCILE_AFTER_S", "-0.5"),
        ("PROOFQUEUE_POLL_S", "infinity"),
        ("PROOFQUEUE_CONCURRENCY", "0"),
        ("PROOFQUEUE_CONCURRENCY", "2.5"),
        ("PROOFQUEUE_RETRY_BASE_S", "nan"),
        ("PROOFQUEUE_RETRY_CAP_S", "inf"),
        ("PROOFQUEUE_RETRY_BUDGET_S", "-5"),
        ("PROOFQUEUE_RETRY_MAX_ATTEMPTS", "0"),
        ("PROOFQUEUE_RETRY_MAX_ATTEMPTS", "1.5"),
        ("PROOFQUEUE_BREAKER_WINDOW_S", "inf"),
        ("PROOFQUEUE_BREAKER_FAILURE_RATIO", "1.5"),
        ("PROOFQUEUE_BREAKER_FAILURE_RATIO", "nan"),
        ("PROOFQUEUE_BREAKER_MIN_CALLS", "0"),
        ("PROOFQUEUE_BREAKER_PROBES", "-1"),
        ("PROOFQUEUE_BREAKER_OPEN_S", "0"),
    ],
)
def test_a_number_that_makes_no_sense_is_refused_naming_the_variable(
    variable: str, value: str
) -> None:
    """nan, inf, negatives and zeros where they make no sense are refused, not used."""
    assert variable in refusal({variable: value})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PROOFQUEUE_CONNECT_TIMEOUT_S", "0.5"),
        ("PROOFQUEUE_RECONCILE_AFTER_S", "0"),
        ("PROOFQUEUE_RETRY_MAX_ATTEMPTS", "1"),
        ("PROOFQUEUE_BREAKER_FAILURE_RATIO", "1"),
        ("PROOFQUEUE_BREAKER_OPEN_S", "1.5"),
    ],
)
def test_a_sensible_number_at_the_edge_is_accepted(variable: str, value: str) -> None:
    """The checks refuse nonsense only: edge values that make sense still work."""
    assert Settings.from_env({variable: value}) != Settings()


@pytest.mark.parametrize("value", ["", "   "], ids=["empty", "blank"])
def test_a_store_variable_set_but_empty_is_refused_not_taken_as_the_default(value: str) -> None:
    """PROOFQUEUE_STORE= (say an unset shell variable) never means ./proofqueue.db."""
    assert "PROOFQUEUE_STORE is empty" in refusal({"PROOFQUEUE_STORE": value})


@pytest.mark.parametrize(
    ("keywords", "named"),
    [
        ({"retry": RetryPolicy(base_s=float("nan"))}, "PROOFQUEUE_RETRY_BASE_S"),
        ({"retry": RetryPolicy(max_attempts=0)}, "PROOFQUEUE_RETRY_MAX_ATTEMPTS"),
        ({"breaker": BreakerPolicy(window_s=-1)}, "PROOFQUEUE_BREAKER_WINDOW_S"),
        ({"connect_timeout_s": float("inf")}, "PROOFQUEUE_CONNECT_TIMEOUT_S"),
        ({"concurrency": 0}, "PROOFQUEUE_CONCURRENCY"),
        ({"vendor_url": "vendor.example"}, "PROOFQUEUE_VENDOR_URL"),
    ],
)
def test_settings_given_by_keyword_are_refused_with_a_configuration_error(
    keywords: dict[str, object], named: str
) -> None:
    """``Settings(...)`` raises ConfigurationError (not a pydantic error), one line."""
    with pytest.raises(ConfigurationError) as caught:
        Settings(**keywords)  # type: ignore[arg-type]
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "vendor.example",
        "vendor.example/acp",
        "localhost:8080",
        "ftp://vendor.example",
        "file:///etc/passwd",
        "https://",
        "http://vendor.example:99999",
        "ftp://buyer:hunter2@vendor.example",
        "vendor:hunter2@vendor.example",
        "http://ven dor.example:8080",
        "https://buyer:hunter2@ven\x00dor.example/acp",
    ],
)
def test_a_vendor_url_that_is_not_http_or_https_is_refused_without_its_credentials(
    url: str,
) -> None:
    """PROOFQUEUE_VENDOR_URL needs http:// or https:// and a host; a password is never shown."""
    message = refusal({"PROOFQUEUE_VENDOR_URL": url})
    assert "PROOFQUEUE_VENDOR_URL" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "https://vendor.example/base",
        "https://buyer:hunter2@vendor.example",
    ],
)
def test_an_http_or_https_vendor_url_is_accepted_and_never_shown_with_credentials(
    url: str,
) -> None:
    """A good vendor URL is kept as given; the settings' repr never shows its password."""
    settings = Settings.from_env({"PROOFQUEUE_VENDOR_URL": url})
    assert settings.vendor_url == url
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)


def test_a_store_url_password_is_not_in_the_settings_repr() -> None:
    """The store may be a postgresql:// URL with a password: repr hides it."""
    settings = Settings(
        store="postgresql://pq:hunter2@db.example/pq", cipher_key=SecretStr("k" * 44)
    )
    assert "hunter2" not in repr(settings)
    assert "db.example" in repr(settings)
