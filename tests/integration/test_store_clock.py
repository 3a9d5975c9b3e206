"""Every process on a PostgreSQL store schedules by the server's clock: a host whose clock
is minutes off corrects itself by the offset it measures against the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from proofqueue import ProofQueue, Settings
from proofqueue.projections import shared


class _AheadStore:
    """A view store whose clock reads ``ahead_s`` later than this machine's."""

    dialect = "postgres"

    def __init__(self, ahead_s: float) -> None:
        self.ahead_s = ahead_s
        self.reads = 0
        self.fail = False

    def query(self, statement: str, params: Any = ()) -> list[dict[str, float]]:
        self.reads += 1
        if self.fail:
            raise OSError("store away")
        return [{"now": datetime.now(UTC).timestamp() + self.ahead_s}]


def test_the_store_clock_follows_the_server_and_keeps_its_offset_when_the_store_is_away() -> None:
    store = _AheadStore(-300.0)  # this host runs five minutes ahead of the server
    clock = shared.StoreClock(store, resync_s=0.0)  # type: ignore[arg-type]
    assert abs((clock() - datetime.now(UTC)) + timedelta(seconds=300)) < timedelta(seconds=1)
    store.fail = True
    assert abs((clock() - datetime.now(UTC)) + timedelta(seconds=300)) < timedelta(seconds=1)
    assert store.reads == 2


def test_the_store_clock_reads_the_server_once_a_resync_period() -> None:
    store = _AheadStore(42.0)
    clock = shared.StoreClock(store)  # type: ignore[arg-type]
    for _ in range(100):
        clock()
    assert store.reads == 1
    assert clock.offset > timedelta(seconds=41)


@pytest.mark.postgres
def test_a_postgres_store_gives_every_process_the_servers_clock(postgres_url: str) -> None:
    with ProofQueue(Settings(store=postgres_url)) as pq:
        clock = pq.parts.clock
        assert isinstance(clock, shared.StoreClock)
        server = shared.store_time(pq.parts.db)
        assert abs(clock().timestamp() - server) < 1.0


def test_a_sqlite_store_keeps_the_machines_clock(tmp_path: Any) -> None:
    with ProofQueue(Settings(store=str(tmp_path / "s.db"))) as pq:
        assert not isinstance(pq.parts.clock, shared.StoreClock)
