"""The receipt: short, public-safe proof of an intent's outcome. It never carries params."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from proofqueue.domain.intent import Intent


class Receipt(BaseModel):
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
