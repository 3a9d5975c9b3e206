"""Benchmark: the transparency tree at 100k receipts.

Appends N receipt leaves to the tree view (the projection's own code, on a throwaway SQLite
view store), then times signing a checkpoint (root from the node cache, Ed25519 signature)
and generating each receipt's c2sp.org/tlog-proof@v1 text, and prints the proof's size and
the SQL reads it took. A sample of proofs is verified offline as a check.

    python -m bench.tlog [N] [SAMPLE]      (defaults: 100000 receipts, 2000 proofs)
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from proofqueue.adapters.signing import load_signing_key, new_signing_key
from proofqueue.domain.checkpoint import Checkpoint, TlogProof, format_checkpoint, format_tlog_proof
from proofqueue.domain.receipt import Receipt, receipt_json
from proofqueue.offline import verify_receipt
from proofqueue.projections import tlog
from proofqueue.projections.store import Cursor, sqlite_viewdb

BATCH = 1000


def receipt(i: int) -> Receipt:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i)
    return Receipt(
        request_id=f"order-{i:07d}",
        actor="agent-7",
        target="0x52908400098527886E0F7030069857D2E4169EE7/logo",
        status="SETTLED",
        attempts=1 + i % 3,
        job_id=f"job-{i}",
        deliverable_id=f"deliv-{i}",
        queued_at=at,
        settled_at=at + timedelta(seconds=2),
        proof=f"{i:064x}",
    )


class Counting(Cursor):
    """A cursor that counts the statements it runs."""

    statements = 0

    def run(self, statement: str, params: object = ()) -> int:
        Counting.statements += 1
        return super().run(statement, params)  # type: ignore[arg-type]

    def all(self, statement: str, params: object = ()) -> list[dict[str, object]]:
        Counting.statements += 1
        return super().all(statement, params)  # type: ignore[arg-type]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sample = min(n, int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
    private, verifier = new_signing_key("bench.example/proofqueue")
    key = load_signing_key(private)
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite_viewdb(os.path.join(tmp, "views.db"))
        with db.transaction() as cur:
            for statement in tlog.SCHEMA:
                cur.run(statement)

        started = time.perf_counter()
        for first in range(0, n, BATCH):
            with db.transaction() as cur:
                for i in range(first, min(n, first + BATCH)):
                    tlog.append_leaf(cur, f"intent-{i}", tlog.leaf_of(receipt(i)))
        appended = time.perf_counter() - started
        nodes = db.query("SELECT COUNT(*) AS n FROM pq_tlog_nodes")[0]["n"]

        rounds = 20
        started = time.perf_counter()
        for _ in range(rounds):
            with db.reading() as cur:
                size = tlog.size(cur)
                root = tlog.root(cur, size)
            note = key.sign(format_checkpoint(Checkpoint(key.name, size, root)))
        signing = (time.perf_counter() - started) / rounds

        picks = random.Random(7).sample(range(n), sample)  # noqa: S311  (a fixed sample, not a secret)
        proofs: list[tuple[int, str]] = []
        Counting.statements = 0
        started = time.perf_counter()
        with db.reading() as plain:
            cur = Counting(plain.raw, db)
            for i in picks:
                hashes = tlog.inclusion_proof(cur, i, size)
                proofs.append((i, format_tlog_proof(TlogProof(i, tuple(hashes), note))))
        proving = (time.perf_counter() - started) / sample
        reads = Counting.statements / sample

        started = time.perf_counter()
        for i, text in proofs[:500]:
            verify_receipt({**receipt_json(receipt(i)), "tlog_proof": text}, verifier)
        verifying = (time.perf_counter() - started) / min(500, len(proofs))

        sizes = sorted(len(text.encode()) for _, text in proofs)
        hash_counts = sorted(text.split("\n\n")[0].count("\n") - 1 for _, text in proofs)
        db.datastore.close()

    print(f"receipts                {n}")
    print(f"append (projection)     {appended / n * 1e6:.1f} us/receipt ({nodes} cached nodes)")
    print(f"sign a checkpoint       {signing * 1e3:.2f} ms (root from the node cache + Ed25519)")
    print(
        f"proof per receipt       {proving * 1e6:.1f} us, {reads:.1f} SQL reads,"
        f" {hash_counts[0]}-{hash_counts[-1]} hashes"
    )
    print(
        f"proof size              {sizes[len(sizes) // 2]} bytes median"
        f" ({sizes[0]}-{sizes[-1]}), tlog-proof text incl. the signed checkpoint"
    )
    print(f"verify offline          {verifying * 1e6:.1f} us/receipt")


if __name__ == "__main__":
    main()
