"""Check a receipt offline: no store, only the receipt JSON and the log's verifier key.

A final receipt carries ``tlog_proof``, a c2sp.org/tlog-proof@v1 text. The receipt is good
when, in this order:

1. the proof's checkpoint is a signed note with a good signature by the verifier key;
2. the checkpoint's origin is the key's name;
3. the leaf, the RFC 8785 (JCS) bytes of the receipt without ``tlog_proof``, is included at
   the proof's index in the checkpointed RFC 6962 tree.

Anything else raises ``ReceiptNotVerified``, whose ``check`` names the step that failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785

from proofqueue.adapters.signing import ed25519_verify
from proofqueue.domain.checkpoint import Checkpoint, TlogProof, parse_checkpoint, parse_tlog_proof
from proofqueue.domain.errors import ProofQueueError
from proofqueue.domain.merkle import leaf_hash, verify_inclusion
from proofqueue.domain.note import (
    NoteError,
    NoteNotVerified,
    open_note,
    parse_note,
    parse_verifier_key,
)

PROOF_FIELD = "tlog_proof"


class ReceiptNotVerified(ProofQueueError):
    """The receipt could not be shown to be in the log; ``check`` names what failed."""

    def __init__(self, check: str, detail: str) -> None:
        self.check = check
        self.detail = detail
        super().__init__(f"{check}: {detail}")


def receipt_leaf(receipt: Mapping[str, Any]) -> bytes:
    """The log leaf of a receipt: its RFC 8785 (JCS) bytes, without ``tlog_proof``."""
    return rfc8785.dumps({k: v for k, v in receipt.items() if k != PROOF_FIELD})


def verify_receipt(receipt: Mapping[str, Any], verifier_key: str) -> None:
    """Return if ``receipt`` is provably in the log signed by ``verifier_key``; else raise
    ReceiptNotVerified naming the failed check."""
    try:
        key = parse_verifier_key(verifier_key)
    except NoteError as e:
        raise ReceiptNotVerified("verifier key", str(e)) from None
    proof = _proof_of(receipt)
    try:
        note = open_note(proof.checkpoint, key, ed25519_verify)
    except NoteNotVerified as e:
        raise ReceiptNotVerified("checkpoint signature", str(e)) from None
    checkpoint = parse_checkpoint(note.text)  # parse_tlog_proof has checked it already
    if checkpoint.origin != key.name:
        raise ReceiptNotVerified(
            "checkpoint origin", f"is {checkpoint.origin!r}, but the key is for {key.name!r}"
        )
    _check_leaf(receipt, proof, checkpoint)


def verify_inclusion_only(receipt: Mapping[str, Any]) -> None:
    """The leaf and inclusion checks of ``verify_receipt`` under the checkpoint the receipt
    carries, whose signature is NOT checked (no key): that shows the receipt was not edited
    after its proof was made, not that the log signed it."""
    proof = _proof_of(receipt)
    checkpoint = parse_checkpoint(parse_note(proof.checkpoint).text)
    _check_leaf(receipt, proof, checkpoint)


def _proof_of(receipt: Mapping[str, Any]) -> TlogProof:
    text = receipt.get(PROOF_FIELD)
    if text is None:
        raise ReceiptNotVerified(PROOF_FIELD, "missing: the receipt is not covered by a checkpoint")
    if not isinstance(text, str):
        raise ReceiptNotVerified(PROOF_FIELD, f"is a {type(text).__name__}, not a text")
    try:
        return parse_tlog_proof(text)
    except NoteError as e:
        raise ReceiptNotVerified(PROOF_FIELD, str(e)) from None


def _check_leaf(receipt: Mapping[str, Any], proof: TlogProof, checkpoint: Checkpoint) -> None:
    index = proof.index
    try:
        leaf = receipt_leaf(receipt)
    except rfc8785.CanonicalizationError as e:
        raise ReceiptNotVerified("leaf", f"the receipt has no RFC 8785 encoding ({e})") from None
    if index >= checkpoint.size:
        raise ReceiptNotVerified(
            "inclusion", f"index {index} is outside the tree of size {checkpoint.size}"
        )
    if not verify_inclusion(
        index, checkpoint.size, leaf_hash(leaf), proof.hashes, checkpoint.root_hash
    ):
        raise ReceiptNotVerified(
            "inclusion",
            f"the receipt is not leaf {index} of the tree of size {checkpoint.size}"
            " (a receipt field, the index or a proof hash differs from what was logged)",
        )
