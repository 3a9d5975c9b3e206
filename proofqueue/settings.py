"""Settings, read once from the environment (or given by keyword) and then passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from proofqueue.domain.backoff import RetryPolicy
from proofqueue.domain.breaker import BreakerPolicy
from proofqueue.domain.errors import ConfigurationError

DEFAULT_STORE = "proofqueue.db"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    store: str = DEFAULT_STORE
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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read PROOFQUEUE_<FIELD>, PROOFQUEUE_RETRY_<FIELD> and PROOFQUEUE_BREAKER_<FIELD>
        (for example PROOFQUEUE_BREAKER_OPEN_S=5); keywords override the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            if name in _NESTED:
                continue
            raw = env.get(f"PROOFQUEUE_{name.upper()}")
            if raw:
                values[name] = raw
        for name, policy in _NESTED.items():
            found = {
                field: env[key]
                for field in policy.__dataclass_fields__
                if (key := f"PROOFQUEUE_{name.upper()}_{field.upper()}") in env
            }
            if found:
                values[name] = _policy(policy, name, found)
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "_".join(str(p) for p in first["loc"]).upper()
            raise ConfigurationError(f"PROOFQUEUE_{where}: {first['msg']}") from None


_NESTED: dict[str, type[RetryPolicy] | type[BreakerPolicy]] = {
    "retry": RetryPolicy,
    "breaker": BreakerPolicy,
}


def _policy(
    policy: type[RetryPolicy] | type[BreakerPolicy], name: str, found: dict[str, str]
) -> RetryPolicy | BreakerPolicy:
    values: dict[str, float | int] = {}
    for field, raw in found.items():
        kind = policy.__dataclass_fields__[field].type
        try:
            value = int(raw) if kind == "int" else float(raw)
        except ValueError:
            raise ConfigurationError(
                f"PROOFQUEUE_{name.upper()}_{field.upper()}: {raw!r} is not a number"
            ) from None
        if value < 0 or value != value:
            raise ConfigurationError(
                f"PROOFQUEUE_{name.upper()}_{field.upper()}: must be a positive number"
            )
        values[field] = value
    return policy(**values)  # type: ignore[arg-type]
