"""Checking a receipt offline against the log's verifier key (``proofqueue.offline``)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proofqueue.adapters.signing import SigningKey
from proofqueue.domain.checkpoint import Checkpoint, TlogProof, format_checkpoint, format_tlog_proof
from proofqueue.domain.merkle import inclusion_proof, leaf_hash, root, subtree_hasher
from proofqueue.domain.note import encode_base64
from proofqueue.offline import ReceiptNotVerified, receipt_leaf, verify_receipt

ORIGIN = "log.example/proofqueue"

# From cyberphone/json-canonicalization testdata/input and output (the RFC 8785 author's
# test data; weird.json holds the property-sorting example of RFC 8785 section 3.2.3).
JCS_VECTORS = [
    (
        '{"\\u20ac": "Euro Sign", "1": "One", "\\u0080": "Control\\u007f", "\\ud83d\\ude02": '
        '"Smiley", "\\u00f6": "Latin Small Letter O With Diaeresis", "\\ufb33": '
        '"Hebrew Letter Dalet With Dagesh", "</script>": "Browser Challenge"}',
        '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin '
        'Small Letter O With Diaeresis","\u20ac":"Euro Sign","\U0001f602":"Smiley","\ufb33":'
        '"Hebrew Letter Dalet With Dagesh"}',
    ),
    (
        '{"1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0}, "10": { }, "": "empty", "a": { },'
        ' "111": [ { } ], "A": { }}',
        '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}',
    ),
]


def a_receipt(i: int) -> dict[str, Any]:
    settled = i % 3 != 0
    return {
        "request_id": f"req-{i}",
        "actor": "agent/buyer",
        "target": "0xprovider/offering",
        "status": "SETTLED" if settled else "FAILED",
        "attempts": 1 + i % 2,
        "job_id": f"job-{i}" if settled else None,
        "deliverable_id": f"dlv-{i}" if settled else None,
        "queued_at": f"2025-01-0{1 + i % 9}T10:00:00+00:00",
        "settled_at": "2025-01-10T11:00:00+00:00" if settled else None,
        "proof": f"{i:064x}",
    }


@dataclass
class Log:
    key: SigningKey
    receipts: list[dict[str, Any]]

    def checkpoint(self, origin: str = ORIGIN) -> str:
        leaves = [leaf_hash(receipt_leaf(r)) for r in self.receipts]
        body = format_checkpoint(Checkpoint(origin, len(leaves), root(leaves)))
        return self.key.sign(body)

    def issued(self, i: int, checkpoint: str | None = None) -> dict[str, Any]:
        """Receipt ``i`` with its tlog_proof against ``checkpoint`` (the latest by default)."""
        leaves = [leaf_hash(receipt_leaf(r)) for r in self.receipts]
        hashes = tuple(inclusion_proof(i, len(leaves), subtree_hasher(leaves)))
        proof = TlogProof(i, hashes, checkpoint or self.checkpoint())
        return {**self.receipts[i], "tlog_proof": format_tlog_proof(proof)}


@pytest.fixture
def log() -> Log:
    return Log(SigningKey(ORIGIN, Ed25519PrivateKey.generate()), [a_receipt(i) for i in range(7)])


def refused(receipt: dict[str, Any], key: str, check: str, detail: str | None = None) -> str:
    """Verify and expect ReceiptNotVerified from ``check``; return its one-line message."""
    with pytest.raises(ReceiptNotVerified, match=detail) as excinfo:
        verify_receipt(receipt, key)
    assert excinfo.value.check == check
    message = str(excinfo.value)
    assert message.startswith(f"{check}: ")
    assert "\n" not in message
    return message


# The leaf bytes


@pytest.mark.parametrize(("given", "expected"), JCS_VECTORS)
def test_the_leaf_is_the_rfc8785_encoding_of_the_receipt(given: str, expected: str) -> None:
    """Published JCS input/output pairs: sorted by UTF-16 code units, numbers as ECMAScript."""
    assert receipt_leaf(json.loads(given)) == expected.encode()


def test_the_leaf_leaves_out_the_tlog_proof() -> None:
    """The proof cannot be part of what it proves: the leaf is the receipt without it."""
    receipt = a_receipt(1)
    assert receipt_leaf({**receipt, "tlog_proof": "anything"}) == receipt_leaf(receipt)
    assert b"tlog_proof" not in receipt_leaf({**receipt, "tlog_proof": None})


# Receipts that verify


def test_every_receipt_in_the_log_verifies_offline(log: Log) -> None:
    """Each receipt with its proof verifies with the verifier key alone, also after JSON."""
    for i in range(len(log.receipts)):
        receipt = log.issued(i)
        verify_receipt(receipt, log.key.verifier_key)
        verify_receipt(json.loads(json.dumps(receipt)), log.key.verifier_key)


def test_a_receipt_verifies_against_a_checkpoint_cosigned_by_witnesses(log: Log) -> None:
    """Signatures by other keys on the checkpoint are ignored."""
    witness = SigningKey("witness.example", Ed25519PrivateKey.generate())
    signed = log.checkpoint()
    witness_line = witness.sign(signed.split("\n\n")[0] + "\n").split("\n\n")[1]
    verify_receipt(log.issued(2, signed + witness_line), log.key.verifier_key)


def test_a_one_receipt_log_needs_no_proof_hashes(log: Log) -> None:
    """A tree of one leaf: the leaf hash is the root and the proof is empty."""
    log.receipts = log.receipts[:1]
    receipt = log.issued(0)
    assert "\nindex 0\n\n" in receipt["tlog_proof"]
    verify_receipt(receipt, log.key.verifier_key)


# Receipts that do not


def test_changing_any_receipt_field_fails_the_inclusion_check(log: Log) -> None:
    """Each field changed, removed, or a field added: the leaf is not the logged one."""
    receipt = log.issued(4)
    vkey = log.key.verifier_key
    for field, value in a_receipt(4).items():
        changed = "x" if value is None else (value + 1 if isinstance(value, int) else value + "x")
        refused({**receipt, field: changed}, vkey, "inclusion", "not leaf 4 of the tree of size 7")
        without = {k: v for k, v in receipt.items() if k != field}
        refused(without, vkey, "inclusion")
    refused({**receipt, "extra": 1}, vkey, "inclusion")


def test_a_receipt_with_another_receipts_proof_fails(log: Log) -> None:
    """Receipt 1's fields with receipt 2's proof: not included at that index."""
    refused(
        {**log.issued(1), "tlog_proof": log.issued(2)["tlog_proof"]},
        log.key.verifier_key,
        "inclusion",
    )


def test_changing_any_proof_hash_or_the_index_fails_the_inclusion_check(log: Log) -> None:
    """Every hash line altered in turn, and the index moved, inside and outside the tree."""
    receipt = log.issued(5)
    text: str = receipt["tlog_proof"]
    head, checkpoint = text.split("\n\n", 1)
    lines = head.split("\n")
    assert len(lines) == 5  # header, index and three hashes
    for k in range(2, len(lines)):
        other = encode_base64(bytes(32))
        tampered = "\n".join([*lines[:k], other, *lines[k + 1 :]]) + "\n\n" + checkpoint
        refused({**receipt, "tlog_proof": tampered}, log.key.verifier_key, "inclusion")
    for index, detail in (("4", "not leaf 4"), ("6", "not leaf 6"), ("7", "outside the tree")):
        moved = text.replace("\nindex 5\n", f"\nindex {index}\n")
        refused({**receipt, "tlog_proof": moved}, log.key.verifier_key, "inclusion", detail)


def test_changing_the_checkpoint_body_fails_the_signature_check(log: Log) -> None:
    """Size, root or origin rewritten under the log's signature: the signature does not verify."""
    receipt = log.issued(3)
    text: str = receipt["tlog_proof"]
    body = log.checkpoint().split("\n\n")[0]
    origin, size, root_b64 = body.split("\n")
    for old, new in ((f"\n{size}\n", "\n8\n"), (root_b64, encode_base64(bytes(32)))):
        tampered = {**receipt, "tlog_proof": text.replace(old, new)}
        refused(tampered, log.key.verifier_key, "checkpoint signature", "does not verify")
    other_origin = text.replace(f"\n\n{origin}\n", "\n\nlog.example/other\n")
    refused({**receipt, "tlog_proof": other_origin}, log.key.verifier_key, "checkpoint signature")


def test_changing_the_checkpoint_signature_fails_the_signature_check(log: Log) -> None:
    """Another valid-looking signature on the same body: it does not verify."""
    receipt = log.issued(3)
    text: str = receipt["tlog_proof"]
    sig_b64 = text.rsplit(" ", 1)[1].rstrip("\n")
    raw = bytearray(base64.b64decode(sig_b64))
    raw[10] ^= 1
    forged = text.replace(sig_b64, encode_base64(bytes(raw)))
    refused({**receipt, "tlog_proof": forged}, log.key.verifier_key, "checkpoint signature")


def test_another_key_fails_naming_the_signer_or_the_key_id(log: Log) -> None:
    """A key of another name, or another key of the log's name, is not the log's key."""
    receipt = log.issued(0)
    stranger = SigningKey("stranger.example", Ed25519PrivateKey.generate())
    refused(
        receipt, stranger.verifier_key, "checkpoint signature", f"not signed by {stranger.name}"
    )
    impostor = SigningKey(ORIGIN, Ed25519PrivateKey.generate())
    refused(receipt, impostor.verifier_key, "checkpoint signature", "key ID")


def test_a_checkpoint_whose_origin_is_not_the_key_name_fails_the_origin_check(log: Log) -> None:
    """The key signed it, but for another log: the origin must be the key's name."""
    receipt = log.issued(1, log.checkpoint(origin="log.example/elsewhere"))
    refused(receipt, log.key.verifier_key, "checkpoint origin", "'log.example/elsewhere'")


def test_a_receipt_without_a_usable_tlog_proof_is_refused(log: Log) -> None:
    """Missing, null, not text, or not a tlog proof: the tlog_proof check fails."""
    receipt = log.issued(1)
    vkey = log.key.verifier_key
    bare = {k: v for k, v in receipt.items() if k != "tlog_proof"}
    refused(bare, vkey, "tlog_proof", "not covered by a checkpoint")
    refused({**receipt, "tlog_proof": None}, vkey, "tlog_proof", "not covered by a checkpoint")
    refused({**receipt, "tlog_proof": ["x"]}, vkey, "tlog_proof", "is a list, not a text")
    truncated = receipt["tlog_proof"][:-2]
    refused({**receipt, "tlog_proof": truncated}, vkey, "tlog_proof")
    refused({**receipt, "tlog_proof": "c2sp.org/tlog-proof@v2\n"}, vkey, "tlog_proof")


def test_a_malformed_verifier_key_is_refused(log: Log) -> None:
    """A key string cut short fails the verifier key check before anything else."""
    refused(log.issued(1), log.key.verifier_key[:-3], "verifier key")


def test_a_receipt_that_has_no_rfc8785_encoding_fails_the_leaf_check(log: Log) -> None:
    """An integer beyond JSON's safe range cannot be a leaf."""
    receipt = {**log.issued(1), "attempts": 2**60}
    refused(receipt, log.key.verifier_key, "leaf", "no RFC 8785 encoding")
