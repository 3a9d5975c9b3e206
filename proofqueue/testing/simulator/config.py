"""The simulator's settings (``SimConfig``), which of them may change at run time, and the
names of the job phases, fates and faults."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

PHASES = ("REQUEST", "NEGOTIATION", "TRANSACTION", "EVALUATION")
Fate = Literal["COMPLETED", "REJECTED", "EXPIRED"]
Fault = Literal[
    "rate_limited",
    "fail_before",
    "timeout",
    "reset",
    "fail_after",
    "slow",
    "redirect_after",
    "bad_job_id",
    "drip",
    "oversized",
]

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0)]

# Settings that ``POST /_sim/faults`` may change; the rest are fixed at start.
FAULT_FIELDS = frozenset(
    {
        "fail_before",
        "fail_after",
        "timeout_rate",
        "hang_seconds",
        "reset_rate",
        "slow_rate",
        "slow_seconds",
        "rate_limit",
        "retry_after",
        "outage",
        "outage_now",
        "complete_after",
        "reject_rate",
        "expire_rate",
        "no_idempotency_key",
        "no_lookup",
        "offerings",
        "redirect_after",
        "bad_job_id",
        "drip_rate",
        "oversized_rate",
        "no_deliverable_rate",
    }
)


class SimConfig(BaseModel):
    """The simulator's settings; field names are the CLI flags with underscores."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    host: str = "127.0.0.1"
    port: int = Field(default=8099, ge=0, le=65535)  # 0: any free port
    api_key: str | None = Field(default=None, repr=False)  # None: any key accepted
    fail_before: Rate = 0.0
    fail_after: Rate = 0.0
    timeout_rate: Rate = 0.0
    hang_seconds: Seconds = 30.0
    reset_rate: Rate = 0.0
    slow_rate: Rate = 0.0
    slow_seconds: Seconds = 0.0
    rate_limit: Rate = 0.0
    retry_after: Seconds = 1.0
    outage: tuple[tuple[float, float], ...] = ()  # (start, end) seconds from the start
    outage_now: bool = False
    complete_after: Seconds = 2.0
    reject_rate: Rate = 0.0
    expire_rate: Rate = 0.0
    no_idempotency_key: bool = False
    no_lookup: bool = False
    offerings: tuple[str, ...] = ()  # "provider/offering"; empty: any is accepted
    seed: int | None = None
    # Hostile answers: a create answered 303 or with a huge or malformed job id after the
    # job was made; answers whose body never finishes (bytes drip for hang_seconds) or
    # exceeds any client's cap; a COMPLETED job read without its deliverable.
    redirect_after: Rate = 0.0
    bad_job_id: Rate = 0.0
    drip_rate: Rate = 0.0
    oversized_rate: Rate = 0.0
    no_deliverable_rate: Rate = 0.0

    @field_validator("outage")
    @classmethod
    def _windows_are_ordered(
        cls, value: tuple[tuple[float, float], ...]
    ) -> tuple[tuple[float, float], ...]:
        for start, end in value:
            if start < 0 or end <= start:
                raise ValueError(f"outage window {start:g}:{end:g} needs 0 <= START < END")
        return value

    @field_validator("offerings")
    @classmethod
    def _offerings_name_both_parts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            provider, _, offering = item.partition("/")
            if not provider or not offering:
                raise ValueError(f"offering {item!r} is not PROVIDER/OFFERING")
        return value

    @model_validator(mode="after")
    def _rates_fit(self) -> SimConfig:
        faults = (
            self.rate_limit
            + self.fail_before
            + self.timeout_rate
            + self.reset_rate
            + self.fail_after
            + self.slow_rate
            + self.redirect_after
            + self.bad_job_id
            + self.drip_rate
            + self.oversized_rate
        )
        if faults > 1.0 + 1e-9:
            raise ValueError(
                "rate_limit + fail_before + timeout_rate + reset_rate + fail_after + slow_rate"
                " + redirect_after + bad_job_id + drip_rate + oversized_rate"
                f" add up to {faults:g}; at most 1 (faults never stack)"
            )
        if self.reject_rate + self.expire_rate > 1.0 + 1e-9:
            raise ValueError("reject_rate + expire_rate add up to more than 1")
        return self

    def public(self) -> dict[str, Any]:
        """The settings as JSON, without the api key."""
        data = self.model_dump(mode="json", exclude={"api_key"})
        data["api_key_set"] = self.api_key is not None
        return data


def validation_message(exc: ValidationError) -> str:
    """One line naming each bad field."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


def changed_config(config: SimConfig, raw: bytes) -> SimConfig | str:
    """``config`` with the changes in ``raw`` (a JSON object of fault settings, as posted to
    ``/_sim/faults``); or why they are refused (a 400)."""
    try:
        patch = json.loads(raw)
    except ValueError:
        return "body must be a JSON object"
    if not isinstance(patch, dict):
        return "body must be a JSON object"
    fixed = sorted(set(patch) - FAULT_FIELDS)
    if fixed:
        return f"not settable at run time: {', '.join(fixed)}"
    merged = {**config.model_dump(), **patch}
    try:
        return SimConfig.model_validate(merged)
    except ValidationError as exc:
        return validation_message(exc)
