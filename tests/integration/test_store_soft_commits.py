"""What is rebuilt from the log (the views) and soft state (heartbeats, call counts) is
committed without an fsync; the log itself always is, on every pooled connection."""

from __future__ import annotations

from pathlib import Path

from proofqueue import ProofQueue, Settings


def _synchronous(pq: ProofQueue) -> int:
    """The ``synchronous`` setting of the store's next pooled connection."""
    with pq.parts.db.datastore.get_connection(commit=False) as conn:
        cur = conn.cursor()
        cur.execute("PRAGMA synchronous")
        return int(cur.fetchone()[0])


def test_a_soft_commit_leaves_every_connection_syncing_in_full(tmp_path: Path) -> None:
    with ProofQueue(Settings(store=str(tmp_path / "s.db"))) as pq:
        pq.submit_many([{"request_id": f"r{n}", "actor": "a", "target": "0xa/b"} for n in range(5)])
        pq.catch_up()  # a soft commit of the views
        with pq.parts.db.transaction(soft=True) as cur:
            cur.run("SELECT 1")
            cur.raw.execute("PRAGMA synchronous")
            assert int(cur.raw.fetchone()[0]) == 1  # NORMAL inside the soft transaction
        assert _synchronous(pq) == 2  # FULL again for whatever the connection does next
        assert len(pq.list()) == 5
