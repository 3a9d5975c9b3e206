"""``verify_receipt``: check a receipt JSON offline, as ``proofqueue verify-receipt`` does.

With the log's verifier key (this server's ``PROOFQUEUE_SIGNING_KEY`` gives it), every
check of ``proofqueue.offline.verify_receipt`` runs: the checkpoint's signature, its origin,
the leaf and its inclusion. Without a key the signature cannot be checked: the leaf and its
inclusion under the root of the checkpoint the receipt carries still are, and the result
says ``signature_checked: false``. That shows the receipt was not edited after its proof
was made, not that the log signed it (anyone can make a tree of one made-up receipt).
"""

from __future__ import annotations

from collections.abc import Mapping

from proofqueue.domain.checkpoint import parse_checkpoint, parse_tlog_proof
from proofqueue.domain.note import parse_note
from proofqueue.entrypoints.mcp.results import VerifyResult
from proofqueue.offline import (
    PROOF_FIELD,
    ReceiptNotVerified,
    verify_inclusion_only,
    verify_receipt,
)


def check_receipt(receipt: Mapping[str, object], verifier_key: str | None) -> VerifyResult:
    """Check ``receipt`` with ``verifier_key`` when there is one, else without the signature."""
    found = VerifyResult(
        ok=False,
        signature_checked=verifier_key is not None,
        request_id=_text(receipt.get("request_id")),
        status=_text(receipt.get("status")),
        verifier_key=verifier_key,
    )
    try:
        if verifier_key is not None:
            verify_receipt(receipt, verifier_key)
        else:
            verify_inclusion_only(receipt)
    except ReceiptNotVerified as exc:
        return found.model_copy(update={"check": exc.check, "detail": exc.detail})
    proof = parse_tlog_proof(str(receipt[PROOF_FIELD]))
    checkpoint = parse_checkpoint(parse_note(proof.checkpoint).text)
    return found.model_copy(
        update={
            "ok": True,
            "origin": checkpoint.origin,
            "index": proof.index,
            "size": checkpoint.size,
        }
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
