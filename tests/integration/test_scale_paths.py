"""The paths that keep cost flat as the log grows (issue 17) give the same answers as the
plain ones: batched catch-up and replay, the breaker's state row, keyset paging, the
streaming whole-log verify and group commit. Real stores; no timings."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from proofqueue import ProofQueue, Settings
from proofqueue.domain.breaker import BreakerState, Transition
from proofqueue.domain.breaker_log import BreakerLog, breaker_id
from proofqueue.domain.errors import IdempotencyConflict, InvalidInput, TrailDamaged
from proofqueue.domain.intent import Intent
from proofqueue.projections import breaker_state, runner
from proofqueue.projections.compare import compare_views
from proofqueue.projections.rebuild import Rebuilder
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import ViewDB, sqlite_viewdb
from proofqueue.projections.views import apply_event
from tests.integration.helpers import RawStore, run_cli

VENDOR = "http://vendor.test"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def pq(store: str) -> Iterator[ProofQueue]:
    with ProofQueue(Settings(store=store)) as queue:
        yield queue


def _transitions(pq: ProofQueue, count: int, start: int = 0) -> None:
    """Record ``count`` breaker transitions (OK -> DEGRADED -> RECOVERING -> OK ...)."""
    log = pq.parts.log.breaker_log(VENDOR) or BreakerLog.open(VENDOR, EPOCH)
    moves = (
        (BreakerState.OK, BreakerState.DEGRADED),
        (BreakerState.DEGRADED, BreakerState.RECOVERING),
        (BreakerState.RECOVERING, BreakerState.OK),
    )
    for n in range(start, start + count):
        at = EPOCH + timedelta(seconds=n)
        source, target = moves[n % 3]
        probing = target == BreakerState.RECOVERING
        log.record(
            Transition(
                at=at, from_state=source, to_state=target, reason=f"move {n}", failure_ratio=0.5,
                calls=10, window_start=at - timedelta(seconds=30),
                open_until=at + timedelta(seconds=15) if target == BreakerState.DEGRADED else None,
                trips=1 + n // 3,
            ),
            worker=f"worker-{n % 2}",
            probe_until=at + timedelta(seconds=30) if probing else None,
        )  # fmt: skip
    pq.parts.log.save(log)


def _busy_log(pq: ProofQueue) -> None:
    """Intents in every status (retried, cancelled, reopened, batches), a breaker that moved
    and was held and released."""
    pq.submit_many(
        [{"request_id": f"b-{n}", "actor": "agent-7", "target": "0xP/logo"} for n in range(30)]
    )
    for n in range(12):
        pq.submit(f"s-{n}", actor=f"agent-{n % 3}", target="0xP/logo", params={"n": n})
    for n in range(0, 12, 3):
        pq.retry(f"s-{n}", operator="ops")
    for n in range(1, 12, 4):
        pq.cancel(f"s-{n}", reason="not needed", operator="ops")
    pq.retry("s-1", operator="ops")  # reopens a FAILED intent
    _transitions(pq, 7)
    log = pq.parts.log.breaker_log(VENDOR)
    assert log is not None
    log.hold_calls(operator="ops", reason="maintenance", now=EPOCH + timedelta(seconds=7))
    log.release(operator="ops", now=EPOCH + timedelta(seconds=8))
    pq.parts.log.save(log)
    _transitions(pq, 4, start=9)


def _one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the projector apply each event by itself, as before batching."""

    def each(cur: Any, events: list[tuple[str, Any]]) -> None:
        for _, event in events:
            apply_event(cur, event)

    monkeypatch.setattr(runner, "apply_batch", each)


def _rebuild(pq: ProofQueue, path: Path, *, batch: int | None = None) -> ViewDB:
    db = sqlite_viewdb(str(path))
    projector = Projector(pq.parts.log.recorder, pq.parts.log.mapper, db, rebuild=True)
    if batch:
        projector.batch = batch
    projector.catch_up()
    projector.finish()
    return db


def _rebuild_fast(pq: ProofQueue, path: Path, *, batch: int | None = None) -> ViewDB:
    """The views as ``replay`` rebuilds them (``Rebuilder``)."""
    db = sqlite_viewdb(str(path))
    rebuilder = Rebuilder(pq.parts.log.recorder, pq.parts.log.mapper, db)
    if batch:
        rebuilder.batch = batch
    rebuilder.catch_up()
    rebuilder.finish()
    return db


def _rows(db: ViewDB, table: str, order: str) -> list[dict[str, Any]]:
    return db.query(f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608  (fixed names)


def _same_views(left: ViewDB, right: ViewDB) -> None:
    assert compare_views(left, right) == []
    for table, order in (
        ("pq_damaged", "notification_id"),
        ("pq_breaker_state", "breaker_id"),
        ("pq_counts", "status"),
        ("pq_metrics", "name, label"),
        ("pq_backlog_moves", "bucket"),
    ):
        assert _rows(left, table, order) == _rows(right, table, order), table


def test_batched_catch_up_builds_the_views_one_by_one_would_with_damage_isolated(
    pq: ProofQueue, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches (of 7 and of 5000), replay's rebuild (batches of 7 and of 10,000) and one
    event at a time give the same views, damaged rows, counts, counters and breaker state,
    on a log with undecodable events, an event that decodes but cannot be applied (a second
    intent claiming a taken request_id), and a breaker event whose content no longer
    matches its hash."""
    _busy_log(pq)
    raw = RawStore(store)
    raw.replace_in_state("s-4", 1, '"n":4', '"n":"four"')  # params change: still decodes
    raw.replace_in_state("s-5", 2, "ops", "o\\u0000ps")  # still decodes
    raw.execute(
        "UPDATE {events} SET state = ? WHERE originator_id = ? AND originator_version = 1",
        (b"{not json", raw.originator("s-6")),
    )
    twin = Intent._chain_create(  # another aggregate id with the request_id of b-3
        Intent.Queued, uuid.uuid4(), EPOCH, request_id="b-3", actor="agent-7",
        target="0xP/logo", params_public={}, params_sealed=None, params_plain={},
        params_digest="0" * 64, max_attempts=3, deadline=EPOCH,
    )  # fmt: skip
    pq.parts.log.save(twin)
    breaker = breaker_id(VENDOR)
    key = breaker if raw.postgres else breaker.hex
    raw.execute(
        "UPDATE {events} SET state = CAST(replace(CAST(state AS TEXT), 'move 3', 'move 9')"
        " AS BLOB) WHERE originator_id = ? AND originator_version = 5"
        if not raw.postgres
        else "UPDATE {events} SET state = convert_to(replace(convert_from(state, 'UTF8'),"
        " 'move 3', 'move 9'), 'UTF8') WHERE originator_id = ? AND originator_version = 5",
        (key,),
    )
    batched = _rebuild(pq, tmp_path / "batched.db")
    small = _rebuild(pq, tmp_path / "small.db", batch=7)
    fast = _rebuild_fast(pq, tmp_path / "fast.db")
    fast_small = _rebuild_fast(pq, tmp_path / "fast-small.db", batch=7)
    _one_by_one(monkeypatch)
    single = _rebuild(pq, tmp_path / "single.db")
    for rebuilt in (batched, small, fast, fast_small):
        _same_views(rebuilt, single)
    damaged = {(r["version"], r["reason"][:20]) for r in _rows(single, "pq_damaged", "version")}
    assert len(damaged) == 3, damaged  # s-6's Queued, the twin, the breaker's 5th event
    state = _rows(batched, "pq_breaker_state", "breaker_id")
    assert [r["version"] for r in state] == [4]  # kept at the last good event
    for db in (batched, small, fast, fast_small, single):
        db.datastore.close()


def test_the_breaker_loads_from_its_state_row_as_from_every_event(store: str) -> None:
    """A new process loads the breaker from the views' row plus only the events after it,
    into exactly the aggregate a load of every event gives; a damaged event after the row
    is named as before."""
    with ProofQueue(Settings(store=store)) as pq:
        _transitions(pq, 40)
        pq.catch_up()
        _transitions(pq, 5, start=40)  # after the row: read from the log
    with ProofQueue(Settings(store=store)) as pq:
        log = pq.parts.log
        reads: list[Any] = []
        get = log.repository.event_store.get

        def counted(*args: Any, **kwargs: Any) -> Any:
            found = list(get(*args, **kwargs))
            reads.append((kwargs.get("gt"), len(found)))
            return found

        log.repository.event_store.get = counted  # type: ignore[method-assign]
        seeded = log.breaker_log(VENDOR)
        assert reads[0] == (41, 5)  # the row is at version 41 (Opened + 40): 5 events read
        assert all(gt == 46 and n == 0 for gt, n in reads[1:])
        log.breaker_seed = None
        log.repository.cache.get(breaker_id(VENDOR), evict=True)  # type: ignore[union-attr]
        whole = log.breaker_log(VENDOR)
        assert seeded is not None
        assert whole is not None
        assert vars(seeded) == vars(whole)
        row = breaker_state.load(pq.parts.db, str(breaker_id(VENDOR)))
        assert row is not None
        assert row.version == 41
    RawStore(store).execute(
        "DELETE FROM {events} WHERE originator_id = ? AND originator_version = 43",
        (breaker_id(VENDOR) if RawStore(store).postgres else breaker_id(VENDOR).hex,),
    )
    with ProofQueue(Settings(store=store)) as pq, pytest.raises(TrailDamaged) as found:
        pq.parts.log.breaker_log(VENDOR)
    assert found.value.seq == 43


def test_cursor_pages_see_every_row_that_keeps_its_status_exactly_once(pq: ProofQueue) -> None:
    """While pages are read, intents are queued, claimed (status kept) and cancelled: every
    row whose status never changed is seen exactly once, a row is seen twice only if its
    status changed, and offset paging would have skipped or repeated rows."""
    for n in range(120):
        pq.submit(f"r-{n:03d}", actor="agent-7", target="0xP/logo")
    for n in range(0, 120, 5):
        pq.cancel(f"r-{n:03d}", reason="x", operator="ops")
    moved: set[str] = set()
    seen: list[str] = []
    cursor: str | None = "start"
    page = 0
    while cursor is not None:
        rows, cursor = pq.page(limit=13, cursor=cursor)
        seen += [row.request_id for row in rows]
        page += 1
        pq.submit(f"new-{page}", actor="agent-7", target="0xP/logo")  # queued meanwhile
        victim = f"r-{(page * 7) % 120:03d}"
        if victim not in moved and (page * 7) % 5:
            pq.cancel(victim, reason="y", operator="ops")
            moved.add(victim)
    kept = {f"r-{n:03d}" for n in range(120)} - moved
    assert all(seen.count(rid) == 1 for rid in kept)
    assert all(seen.count(rid) <= 2 for rid in moved)
    assert len([rid for rid in seen if rid.startswith("r-")]) >= len(kept)
    assert pq.page(limit=1000, cursor="start")[1] is None  # one page holds all: no next


def test_cursor_refusals_and_the_cli_and_http_shapes(
    pq: ProofQueue, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cursor that is not one is refused naming the field; the CLI's JSON stays an array
    and the next cursor goes to stderr; HTTP sends it as X-Next-Cursor."""
    for n in range(5):
        pq.submit(f"c-{n}", actor="agent-7", target="0xP/logo")
    for bad in ("nope", "c1.!!!", "c1." + "A" * 40, "c1.WzEsMiwzXQ"):
        with pytest.raises(InvalidInput) as refused:
            pq.page(cursor=bad)
        assert refused.value.field == "cursor"
    with pytest.raises(InvalidInput):
        pq.list(cursor="start", offset=3)
    first, following = pq.page(limit=2, cursor="start")
    assert following is not None
    second, _ = pq.page(limit=2, cursor=following)
    assert [r.request_id for r in first + second] == [r.request_id for r in pq.list(limit=4)]
    ran = run_cli(store, "list", "--json", "--limit", "2", "--cursor", "start")
    assert ran.code == 0, ran
    assert isinstance(ran.json(), list)
    assert len(ran.json()) == 2
    assert f"next-cursor: {following}" in ran.stderr
    import asyncio

    import httpx

    from proofqueue.entrypoints.http import close_app, create_app

    app = create_app(pq)
    token = pq.create_token("ops-1", "operator")[1]

    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            return await c.get(path, headers={"Authorization": f"Bearer {token}"})

    answer = asyncio.run(get("/intents?limit=2&cursor=start"))
    assert answer.status_code == 200
    assert len(answer.json()) == 2
    assert answer.headers["x-next-cursor"] == following
    last = asyncio.run(get(f"/intents?limit=10&cursor={following}"))
    assert len(last.json()) == 3
    assert "x-next-cursor" not in last.headers
    assert asyncio.run(get("/intents?cursor=bad")).status_code == 400
    close_app(app)


def test_whole_log_verify_streams_every_event_once_by_aggregate(pq: ProofQueue) -> None:
    """The by-aggregate scan, in pages of 3, gives each stored event once, each aggregate's
    together in version order; verify finds the same as before."""
    _busy_log(pq)
    streamed = list(pq.parts.log.by_aggregate(page=3))
    keys = [(e.originator_id, e.originator_version) for e in streamed]
    assert len(keys) == len(set(keys)) == pq.parts.log.recorder.max_notification_id()
    runs = [key for n, (key, _) in enumerate(keys) if n == 0 or keys[n - 1][0] != key]
    assert len(runs) == len(set(runs))  # each aggregate in one run
    assert all(v == 1 for (k, v), (pk, _) in zip(keys[1:], keys, strict=False) if k != pk)
    by_id = {
        n.id: (n.originator_id, n.originator_version)
        for n in pq.parts.log.recorder.select_notifications(start=1, limit=10_000)
    }
    assert {e.id: (e.originator_id, e.originator_version) for e in streamed} == by_id
    assert list(pq.parts.log.notification_ids()) == sorted(by_id)
    report = pq.verify()
    assert report.ok
    assert report.events == len(keys)
    assert report.intents == 42


def test_group_commit_keeps_idempotency_and_each_callers_answer(pq: ProofQueue) -> None:
    """Sixteen threads submit at once: eight the same request (one intent, every caller its
    receipt), four a request with other params than a twin (one wins, the other is told
    IdempotencyConflict), four distinct ones. Nothing is half-written."""
    gate = threading.Barrier(16)
    answers: dict[int, Any] = {}

    def submit(n: int) -> None:
        if n < 8:
            rid, params = "same", {"k": 1}
        elif n < 12:
            rid, params = f"pair-{n % 2}", {"who": n}
        else:
            rid, params = f"solo-{n}", {}
        gate.wait()
        try:
            answers[n] = pq.submit(rid, actor="agent-7", target="0xP/logo", params=params)
        except IdempotencyConflict as exc:
            answers[n] = exc

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answers[n].request_id == "same" for n in range(8))
    for pair in ("pair-0", "pair-1"):
        mine = [answers[n] for n in range(8, 12) if n % 2 == int(pair[-1])]
        assert sum(isinstance(a, IdempotencyConflict) for a in mine) == 1
    report = pq.verify()
    assert report.ok
    assert report.intents == 1 + 2 + 4
    assert report.events == 7
