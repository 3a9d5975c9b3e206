"""A running worker signs the transparency log's checkpoints by itself: an intent settled
through real processes gets a receipt with a ``tlog_proof`` that verifies offline."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.procs import Worker, cli, cli_json, cli_json_here, vendor_sim, wait_for

FAST = {
    "PROOFQUEUE_LEASE_S": "3",
    "PROOFQUEUE_CONNECT_TIMEOUT_S": "0.5",
    "PROOFQUEUE_READ_TIMEOUT_S": "1",
    "PROOFQUEUE_POLL_S": "0.2",
    "PROOFQUEUE_POLL_CAP_S": "0.5",
    "PROOFQUEUE_CHECKPOINT_S": "1",
}


def test_a_worker_signs_a_checkpoint_and_the_receipt_verifies_offline(
    store: str, tmp_path: Path
) -> None:
    """Settle through a worker with a signing key: within PROOFQUEUE_CHECKPOINT_S a signed
    checkpoint covers the receipt, whose tlog_proof verify-receipt accepts offline."""
    keys = cli({}, "signing-key", "--origin", "example.com/proofqueue").stdout.split()
    private, verifier = keys[0], keys[1]
    with vendor_sim(tmp_path, "--complete-after", "0.2") as url:
        env = {
            **FAST,
            "PROOFQUEUE_STORE": store,
            "PROOFQUEUE_VENDOR_URL": url,
            "PROOFQUEUE_SIGNING_KEY": private,
        }
        worker = Worker(env, tmp_path / "worker.log")
        try:
            submitted = cli_json(
                env, "submit", "--request-id", "t-1", "--actor", "a", "--target", "0xabc/logo"
            )
            assert submitted["status"] in ("SUBMITTED", "QUEUED")
            wait_for(
                lambda: cli_json_here(env, "receipt", "t-1").get("tlog_proof") is not None,
                30,
                "a signed checkpoint to cover the settled receipt",
            )
        finally:
            worker.stop()
        receipt = cli_json_here(env, "receipt", "t-1")
        checkpoint = cli(env, "checkpoint").stdout
    assert receipt["status"] == "SETTLED"
    assert checkpoint.startswith("example.com/proofqueue\n")
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    assert cli({}, "verify-receipt", str(path), "--key", verifier).returncode == 0
    receipt["deliverable_id"] = "someone-else's"
    path.write_text(json.dumps(receipt))
    refused = cli({}, "verify-receipt", str(path), "--key", verifier, check=False)
    assert refused.returncode == 1
