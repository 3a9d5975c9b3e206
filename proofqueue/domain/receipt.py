"""The receipt: short, public-safe proof of an intent's outcome. It never carries params.

``tlog_proof`` is filled in by the reader once a signed checkpoint covers the receipt (a
c2sp.org/tlog-proof@v1 text); it is never part of the logged leaf, which is the RFC 8785
form of ``receipt_json`` without it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from proofqueue.domain.intent import Intent


class Receipt(BaseModel):
    """The public-safe proof of an intent's outcome (never its params): who asked for what,
    its status, attempts, the vendor's job and deliverable, and ``proof``, the head of its
    hash chain. ``tlog_proof``: its inclusion in the signed transparency log, once
    terminal and covered by a checkpoint."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    actor: str
    target: str
    status: str
    attempts: int
    job_id: str | None
    deliverable_id: str | None
    queued_at: datetime
    settled_at: datetime | None
    proof: str
    tlog_proof: str | None = None

    @model_serializer(mode="wrap")
    def _without_absent_proof(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``tlog_proof`` is left out while there is none, so a receipt serializes exactly
        as before the transparency log existed (the CLI prints it as null)."""
        data: dict[str, Any] = handler(self)
        if data.get("tlog_proof") is None:
            data.pop("tlog_proof", None)
        return data

    @property
    def is_final(self) -> bool:
        return self.status in ("SETTLED", "FAILED")


def receipt_of(intent: Intent) -> Receipt:
    return Receipt(
        request_id=intent.request_id,
        actor=intent.actor,
        target=intent.target,
        status=intent.status.value,
        attempts=intent.attempts,
        job_id=intent.job_id,
        deliverable_id=intent.deliverable_id,
        queued_at=intent.queued_at,
        settled_at=intent.settled_at,
        proof=intent.proof_head,
    )


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """The receipt as JSON values (times as ISO 8601 text), as it is printed and logged."""
    return json.loads(receipt.model_dump_json())  # type: ignore[no-any-return]
