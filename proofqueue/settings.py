"""Settings, read once from the environment (or given by keyword) and then passed down.

Every mistake is a ``ConfigurationError`` with one line naming the variable: an unknown
``PROOFQUEUE_*`` variable (with the closest known name), a number that makes no sense (nan,
inf, a negative or zero where that means nothing), a vendor URL that is not http(s). The
same line comes whether the settings were read by ``from_env`` or given as ``Settings(...)``.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from proofqueue.domain.backoff import RetryPolicy
from proofqueue.domain.breaker import BreakerPolicy
from proofqueue.domain.errors import ConfigurationError

DEFAULT_STORE = "proofqueue.db"
PREFIX = "PROOFQUEUE_"

# Variables the project's own tests, scripts and benchmarks read. They are not settings, but
# they are known: a run with them set is not refused.
TOOLING_VARIABLES = frozenset(
    {
        "PROOFQUEUE_TEST_POSTGRES_URL",  # tests: the PostgreSQL server to make databases on
        "PROOFQUEUE_REQUIRE_POSTGRES",  # tests, scripts/with-postgres: fail without PostgreSQL
        "PROOFQUEUE_PG_BINDIR",  # scripts/with-postgres
        "PROOFQUEUE_PG_LIBDIR",  # scripts/with-postgres
        "PROOFQUEUE_CHAOS",  # proofqueue.chaos: crash points for fault runs
        "PROOFQUEUE_SOAK",  # tests/faults: the soak-size plan
        "PROOFQUEUE_FAULTS_SEED",  # tests/faults: repeat a run's random choices
    }
)
TOOLING_PREFIXES = ("PROOFQUEUE_BENCH_",)  # bench/: any benchmark knob

# Settings given only by keyword (by the code that opens the store), never by a variable.
_KEYWORD_ONLY = frozenset({"create_store"})


class Settings(BaseModel):
    """Everything configurable, each with its default; ``Settings.from_env()`` reads the
    ``PROOFQUEUE_*`` variables (nested policies as ``PROOFQUEUE_RETRY_*`` and
    ``PROOFQUEUE_BREAKER_*``)."""

    model_config = ConfigDict(
        frozen=True, arbitrary_types_allowed=True, allow_inf_nan=False, extra="forbid"
    )

    store: str = DEFAULT_STORE
    # False: open an existing store only, never create one (the commands that only read).
    create_store: bool = True
    vendor_url: str | None = None
    vendor_api_key: SecretStr | None = None
    cipher_key: SecretStr | None = None
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = Field(default_factory=BreakerPolicy)
    # Vendor calls in flight at once, per worker process.
    concurrency: int = Field(default=8, ge=1, le=256)
    connect_timeout_s: float = Field(default=3.0, gt=0)
    read_timeout_s: float = Field(default=10.0, gt=0)
    # How long a claimed attempt is held before another worker may take it over, as
    # watched by that worker's own monotonic clock (wall clocks may disagree). A vendor call
    # is only started while it can end inside the lease: so lease_s must exceed call_s.
    lease_s: float = Field(default=30.0, gt=0)
    # After a create that timed out or lost its connection, how long to wait before looking
    # the job up (the vendor may still be committing it).
    reconcile_after_s: float = Field(default=10.0, ge=0)
    # How often a submitted job is read until it completes.
    poll_s: float = Field(default=0.5, gt=0)
    poll_cap_s: float = Field(default=5.0, gt=0)
    # How often an idle worker looks at the log.
    idle_s: float = Field(default=0.2, gt=0)
    # The transparency log's Ed25519 key in signed-note form (PRIVATE+KEY+<origin>+...);
    # without it no checkpoint is signed and receipts carry no tlog_proof.
    signing_key: SecretStr | None = None
    # A running worker signs a checkpoint within this many seconds of the tree growing.
    checkpoint_s: float = Field(default=10.0, gt=0)

    @property
    def call_s(self) -> float:
        """The longest one vendor call may take: connect plus read timeout, enforced as the
        HTTP client's deadline for the whole call."""
        return self.connect_timeout_s + self.read_timeout_s

    @model_validator(mode="after")
    def _lease_holds_a_call(self) -> Settings:
        if self.lease_s <= self.call_s:
            raise ValueError(
                f"lease_s ({self.lease_s:g}) must be longer than a vendor call may take"
                f" (connect_timeout_s + read_timeout_s = {self.call_s:g})"
            )
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _one_line(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Any invalid setting, given by keyword or read from the environment, is one
        ``ConfigurationError`` line naming its variable (never a pydantic error)."""
        try:
            return handler(data)
        except ValidationError as exc:
            raise _refusal(exc) from None

    @field_validator("store")
    @classmethod
    def _store_given(cls, value: str) -> str:
        if not value.strip():
            raise ConfigurationError(
                f"{PREFIX}STORE is empty: unset it for the default {DEFAULT_STORE}, or give a"
                " SQLite file path or a postgresql:// URL"
            )
        return value

    @field_validator("vendor_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value:
            check_vendor_url(value)
        return value

    @field_validator("vendor_api_key")
    @classmethod
    def _header_safe(cls, value: SecretStr | None) -> SecretStr | None:
        key = value.get_secret_value() if value is not None else ""
        if key and not (key.isascii() and key.isprintable()):
            raise ConfigurationError(
                f"{PREFIX}VENDOR_API_KEY must be printable ASCII (it is sent as the x-api-key"
                " header); check it for a line break or another control character"
            )
        return value

    @field_validator("retry", "breaker")
    @classmethod
    def _policy_makes_sense(cls, value: RetryPolicy | BreakerPolicy) -> RetryPolicy | BreakerPolicy:
        check_policy("retry" if isinstance(value, RetryPolicy) else "breaker", value)
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """The store and vendor URL as they may be shown: without a password."""
        for name, value in super().__repr_args__():
            if name in ("store", "vendor_url") and isinstance(value, str):
                yield name, without_password(value)
            else:
                yield name, value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read PROOFQUEUE_<FIELD>, PROOFQUEUE_RETRY_<FIELD> and PROOFQUEUE_BREAKER_<FIELD>
        (for example PROOFQUEUE_BREAKER_OPEN_S=5); keywords override the environment. A
        PROOFQUEUE_* variable that is neither a setting nor one of the project's tooling
        variables is refused, naming the closest known one."""
        env = os.environ if environ is None else environ
        check_known_variables(env)
        values: dict[str, object] = {}
        for name in cls.model_fields:
            if name in _NESTED or name in _KEYWORD_ONLY:
                continue
            key = f"{PREFIX}{name.upper()}"
            raw = env.get(key)
            if raw:
                values[name] = raw
            elif raw is not None and name == "store":
                values[name] = raw  # set but empty: refused, not the default
        for name, policy in _NESTED.items():
            found = {
                field: env[key]
                for field in policy.__dataclass_fields__
                if (key := f"{PREFIX}{name.upper()}_{field.upper()}") in env
            }
            if found:
                values[name] = _policy(policy, name, found)
        values.update(overrides)
        return cls.model_validate(values)


_NESTED: dict[str, type[RetryPolicy] | type[BreakerPolicy]] = {
    "retry": RetryPolicy,
    "breaker": BreakerPolicy,
}


def setting_variables() -> list[str]:
    """Every PROOFQUEUE_* variable that is a setting."""
    names = [
        f"{PREFIX}{name.upper()}"
        for name in Settings.model_fields
        if name not in _NESTED and name not in _KEYWORD_ONLY
    ]
    for name, policy in _NESTED.items():
        names.extend(
            f"{PREFIX}{name.upper()}_{field.upper()}" for field in policy.__dataclass_fields__
        )
    return names


def check_known_variables(env: Mapping[str, str]) -> None:
    """Refuse the first unknown PROOFQUEUE_* variable, naming the closest known one."""
    known = [*setting_variables(), *sorted(TOOLING_VARIABLES)]
    for key in sorted(env):
        if not key.startswith(PREFIX) or key in known or key.startswith(TOOLING_PREFIXES):
            continue
        closest = difflib.get_close_matches(key, known, n=1, cutoff=0.0)
        hint = f"; did you mean {closest[0]}?" if closest else ""
        raise ConfigurationError(f"unknown variable {key}{hint} (unset it to go on)")


def without_password(url: str) -> str:
    """``url`` as it may be shown: whatever precedes the last ``@`` of its authority (a user
    and password, even a password holding a raw ``@``) reduced to the user and ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    at = rest.rfind("@")
    if at < 0:
        return url
    userinfo, host = rest[:at], rest[at + 1 :]
    user = userinfo.split(":", 1)[0] if sep and "/" not in userinfo else ""
    shown = f"{user}:***@{host}" if user else f"***@{host}"
    return f"{scheme}://{shown}" if sep else shown


def check_vendor_url(url: str) -> None:
    """An http:// or https:// URL with a host (credentials are allowed, never shown)."""
    shown = without_password(url)
    example = "for example https://vendor.example or http://127.0.0.1:8080"
    parts = urlsplit(url)
    if "://" not in url or parts.scheme.lower() not in ("http", "https"):
        scheme = f"'{parts.scheme}://'" if "://" in url else "no scheme"
        raise ConfigurationError(
            f"{PREFIX}VENDOR_URL {shown!r} has {scheme}; it needs http:// or https:// ({example})"
        )
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ConfigurationError(
            f"{PREFIX}VENDOR_URL {shown!r}: the port is not a number from 1 to 65535"
        ) from None
    if not parts.hostname:
        raise ConfigurationError(f"{PREFIX}VENDOR_URL {shown!r} has no host ({example})")
    if any(ch.isspace() or not ch.isprintable() for ch in parts.hostname):
        raise ConfigurationError(
            f"{PREFIX}VENDOR_URL {shown!r}: the host holds white space or a control character"
        )


def check_policy(name: str, policy: RetryPolicy | BreakerPolicy) -> None:
    """Every number of a retry or breaker policy finite and meaningful: whole numbers at
    least 1, a failure ratio in (0, 1], every duration more than 0."""
    for field in fields(policy):
        value = getattr(policy, field.name)
        variable = f"{PREFIX}{name.upper()}_{field.name.upper()}"
        whole = field.type == "int"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigurationError(f"{variable}: {value!r} is not a number")
        if not math.isfinite(value):
            raise ConfigurationError(f"{variable}: must be a finite number, not {value}")
        if whole and not float(value).is_integer():
            raise ConfigurationError(f"{variable}: must be a whole number, not {value}")
        if field.name == "failure_ratio":
            if not 0 < value <= 1:
                raise ConfigurationError(f"{variable}: must be more than 0 and at most 1")
        elif whole and value < 1:
            raise ConfigurationError(f"{variable}: must be at least 1, not {value}")
        elif value <= 0:
            raise ConfigurationError(f"{variable}: must be more than 0, not {value}")


def _policy(
    policy: type[RetryPolicy] | type[BreakerPolicy], name: str, found: dict[str, str]
) -> RetryPolicy | BreakerPolicy:
    values: dict[str, float | int] = {}
    for field, raw in found.items():
        variable = f"{PREFIX}{name.upper()}_{field.upper()}"
        whole = policy.__dataclass_fields__[field].type == "int"
        parse: Callable[[str], float | int] = int if whole else float
        try:
            values[field] = parse(raw.strip())
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise ConfigurationError(f"{variable}: {raw!r} is not {kind}") from None
    made = policy(**values)  # type: ignore[arg-type]
    check_policy(name, made)
    return made


def _refusal(exc: ValidationError) -> ConfigurationError:
    """The first problem of a pydantic error as one line naming the variable."""
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if first["type"] == "extra_forbidden" and loc:
        closest = difflib.get_close_matches(loc[0], list(Settings.model_fields), n=1, cutoff=0.0)
        hint = f"; did you mean {closest[0]!r}?" if closest else ""
        return ConfigurationError(f"unknown setting {loc[0]!r}{hint}")
    where = "_".join(loc).upper()
    message = str(first["msg"]).removeprefix("Value error, ")
    return ConfigurationError(f"{PREFIX}{where}: {message}")
