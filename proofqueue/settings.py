"""Settings, read once from the environment (or given by keyword) and then passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

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
    # How long a claimed attempt is held before another worker may take it over.
    lease_s: float = Field(default=30.0, gt=0)
    # How often a submitted job is read until it completes.
    poll_s: float = Field(default=0.5, gt=0)
    poll_cap_s: float = Field(default=5.0, gt=0)
    # How often an idle worker looks at the log.
    idle_s: float = Field(default=0.2, gt=0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field, name in (
            ("store", "PROOFQUEUE_STORE"),
            ("vendor_url", "PROOFQUEUE_VENDOR_URL"),
            ("vendor_api_key", "PROOFQUEUE_VENDOR_API_KEY"),
            ("cipher_key", "PROOFQUEUE_CIPHER_KEY"),
        ):
            if env.get(name):
                values[field] = env[name]
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigurationError(f"setting {where}: {first['msg']}") from None
