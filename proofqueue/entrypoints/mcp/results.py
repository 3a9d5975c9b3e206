"""What the MCP tools answer: one pydantic model per tool, published as its output schema
and sent as the call's structured content (with the same JSON as text, for older clients).

The fields are those of the CLI's ``--json`` output (design.md "Machine-readable output"),
so an agent reads the same names whichever way it reaches proofqueue. Times are ISO 8601
UTC text; absent values are null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from proofqueue.domain.receipt import Receipt, receipt_json


class ReceiptResult(BaseModel):
    """The public-safe receipt of one intent at its current status (never its params)."""

    # A field the receipt gains later passes through as it is: the receipt must reach the
    # agent whole, or it would no longer be the leaf the log holds (verify_receipt).
    model_config = ConfigDict(frozen=True, extra="allow")

    request_id: str
    actor: str
    target: str
    status: str = Field(description="QUEUED, RETRYING, SUBMITTED, SETTLED or FAILED")
    attempts: int
    job_id: str | None
    deliverable_id: str | None
    queued_at: str
    settled_at: str | None
    proof: str = Field(description="the head of the intent's hash chain")
    tlog_proof: str | None = Field(
        default=None,
        description="c2sp.org/tlog-proof@v1 text once a signed checkpoint covers the final"
        " receipt; give the whole receipt to verify_receipt (or `proofqueue verify-receipt`)",
    )

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptResult:
        """The result for a receipt of the facade."""
        return cls.model_validate(receipt_json(receipt))


class SubmitResult(ReceiptResult):
    """The receipt of the submitted intent, and whether this call recorded it."""

    new: bool = Field(
        description="false when this request_id was already recorded: the receipt is of"
        " that intent, nothing was bought again"
    )
    final: bool = Field(description="true once SETTLED or FAILED; else call get_receipt later")


class Transition(BaseModel):
    """One move of the vendor's circuit breaker."""

    at: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    reason: str | None = None

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class HeldBy(BaseModel):
    """An operator's hold on the vendor: no process calls it until released."""

    by: str | None = None
    reason: str | None = None
    since: str | None = None


class HealthResult(BaseModel):
    """The vendor's circuit breaker as this store sees it, and the backlog waiting for it."""

    state: str = Field(description="OK, DEGRADED or RECOVERING")
    vendor: str | None = None
    since: str | None = None
    open_until: str | None = None
    probe_until: str | None = None
    failure_ratio: float
    calls_in_window: int
    window_s: float
    backlog: int = Field(description="intents waiting to be bought (QUEUED or RETRYING)")
    oldest_queued_age_s: float | None = None
    held: HeldBy | None = Field(default=None, description="set while an operator holds the vendor")
    transitions: list[Transition] = Field(default_factory=list)
    damaged_events: int = Field(
        default=0,
        description="stored events the views found damaged (operators: `proofqueue verify --all`)",
    )

    @classmethod
    def of(cls, view: object) -> HealthResult:
        """The result for the facade's health view (a dict or a model with the same fields).
        Damaged events are counted, not listed: their request_ids are other actors'."""
        data = dict(_plain(view))
        damaged = data.pop("damaged", None)
        data["damaged_events"] = len(damaged) if isinstance(damaged, list) else 0
        return cls.model_validate({k: v for k, v in data.items() if k in cls.model_fields})


class IntentRow(BaseModel):
    """One row of the operator list."""

    request_id: str
    status: str
    actor: str
    target: str
    attempts: int
    last_error: str | None = None
    next_attempt_at: str | None = None
    queued_at: str | None = None
    age_s: float | None = None
    waiting_for: str | None = Field(default=None, description="why an open intent waits")


class IntentList(BaseModel):
    """The operator list, queued and retrying first."""

    intents: list[IntentRow]
    count: int = Field(description="rows in this answer (at most the limit asked)")

    @classmethod
    def of(cls, rows: Iterable[object]) -> IntentList:
        """The result for the facade's list rows (dicts or models with the same fields)."""
        fields = IntentRow.model_fields
        shown = [
            IntentRow.model_validate({k: v for k, v in _plain(row).items() if k in fields})
            for row in rows
        ]
        return cls(intents=shown, count=len(shown))


class VerifyResult(BaseModel):
    """What checking a receipt offline found."""

    ok: bool = Field(description="every check made passed")
    signature_checked: bool = Field(
        description="true when the checkpoint's signature was checked with the log's verifier"
        " key; false when this server has no key (PROOFQUEUE_SIGNING_KEY unset): then only the"
        " leaf and its inclusion under the receipt's own checkpoint were checked, which shows"
        " the receipt is intact but not that the log signed it"
    )
    check: str | None = Field(
        default=None, description="the check that failed: tlog_proof, leaf, inclusion, ..."
    )
    detail: str | None = None
    request_id: str | None = None
    status: str | None = None
    origin: str | None = Field(default=None, description="the log's name in the checkpoint")
    index: int | None = Field(default=None, description="the receipt's leaf index in the log")
    size: int | None = Field(default=None, description="the checkpointed tree size")
    verifier_key: str | None = Field(default=None, description="the public key checked against")


def _plain(value: object) -> dict[str, object]:
    """A row or view as a plain dict of JSON values, whether the facade answered a dict or a
    pydantic model (the typed public API)."""
    if isinstance(value, BaseModel):
        dumped: dict[str, object] = value.model_dump(mode="json", by_alias=True)
        return dumped
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    raise TypeError(f"expected a mapping or a model, not {type(value).__name__}")


def _jsonable(value: object) -> object:
    """Times as ISO text, nested mappings and lists likewise; everything else as is."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
