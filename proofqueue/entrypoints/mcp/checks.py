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

import rfc8785

from proofqueue.domain.checkpoint import parse_checkpoint, parse_tlog_proof
from proofqueue.domain.merkle import leaf_hash, verify_inclusion
from proofqueue.domain.note import NoteError, parse_note
from proofqueue.entrypoints.mcp.results import VerifyResult
from proofqueue.offline import PROOF_FIELD, ReceiptNotVerified, receipt_leaf, verify_receipt


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
            _check_inclusion(receipt)
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


def _check_inclusion(receipt: Mapping[str, object]) -> None:
    """The leaf and inclusion checks of ``offline.verify_receipt``, under the receipt's own
    checkpoint, whose signature is not checked; raise ReceiptNotVerified naming the failure."""
    text = receipt.get(PROOF_FIELD)
    if text is None:
        raise ReceiptNotVerified(PROOF_FIELD, "missing: the receipt is not covered by a checkpoint")
    if not isinstance(text, str):
        raise ReceiptNotVerified(PROOF_FIELD, f"is a {type(text).__name__}, not a text")
    try:
        proof = parse_tlog_proof(text)
    except NoteError as e:
        raise ReceiptNotVerified(PROOF_FIELD, str(e)) from None
    checkpoint = parse_checkpoint(parse_note(proof.checkpoint).text)
    try:
        leaf = receipt_leaf(receipt)
    except rfc8785.CanonicalizationError as e:
        raise ReceiptNotVerified("leaf", f"the receipt has no RFC 8785 encoding ({e})") from None
    if proof.index >= checkpoint.size:
        raise ReceiptNotVerified(
            "inclusion", f"index {proof.index} is outside the tree of size {checkpoint.size}"
        )
    if not verify_inclusion(
        proof.index, checkpoint.size, leaf_hash(leaf), proof.hashes, checkpoint.root_hash
    ):
        raise ReceiptNotVerified(
            "inclusion",
            f"the receipt is not leaf {proof.index} of the tree of size {checkpoint.size}"
            " (a receipt field, the index or a proof hash differs from what was logged)",
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
