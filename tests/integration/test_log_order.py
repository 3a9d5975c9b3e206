"""The views follow the log's order robustly: an event deleted, an id reused, two ids swapped
or (on SQLite) a gap are named with their notification id by the catch-up, ``verify`` and
``replay --check``; the intent concerned is isolated, the rest of the queue goes on; and
``views rebuild`` puts views consistent with the log (and the receipts) in place.
"""

from __future__ import annotations

from typing import Any

from proofqueue import ProofQueue
from proofqueue.projections import queries
from tests.integration.helpers import RawStore, open_queue, run_cli

TARGET = "0xProvider/logo"


def submit(pq: ProofQueue, *request_ids: str) -> None:
    for request_id in request_ids:
        pq.submit(request_id, actor="agent-7", target=TARGET, params={"size": "large"})


# The raw SQL below names only the constant column of each store's event table.


def notes(raw: RawStore) -> list[tuple[int, str, int]]:
    """(notification id, aggregate id as stored, version) of every event, in id order."""
    column = "notification_id" if raw.postgres else "rowid"
    rows = raw.execute(
        f"SELECT {column}, originator_id, originator_version FROM {{events}}"  # noqa: S608
        f" ORDER BY {column}"
    )
    return [(int(n), str(o), int(v)) for n, o, v in rows]


def set_id(raw: RawStore, old: int, new: int) -> None:
    column = "notification_id" if raw.postgres else "rowid"
    raw.execute(f"UPDATE {{events}} SET {column} = ? WHERE {column} = ?", (new, old))  # noqa: S608


def swap_ids(raw: RawStore, request_id: str, a: int, b: int) -> tuple[int, int]:
    """Give events ``a`` and ``b`` of an intent each other's notification id."""
    mine = {v: n for n, o, v in notes(raw) if o == str(raw.originator(request_id))}
    set_id(raw, mine[a], -1)
    set_id(raw, mine[b], mine[a])
    set_id(raw, -1, mine[b])
    return mine[a], mine[b]


def delete_newest(raw: RawStore) -> int:
    newest = notes(raw)[-1][0]
    column = "notification_id" if raw.postgres else "rowid"
    raw.execute(f"DELETE FROM {{events}} WHERE {column} = ?", (newest,))  # noqa: S608
    return newest


def listed(pq: ProofQueue) -> dict[str, dict[str, Any]]:
    return {row.request_id: row.model_dump(mode="json") for row in pq.list(limit=100)}


def due(pq: ProofQueue) -> list[str]:
    return queries.due(pq.parts.db, pq.parts.clock(), 100)


def test_a_new_intent_at_the_id_of_a_deleted_newest_event_is_listed_due_and_the_loss_named(
    store: str,
) -> None:
    """The newest event deleted after the views applied it, then a submit (SQLite gives it
    the same id): the new intent is listed and due; the deleted event is named against its
    intent, which is isolated; verify and replay --check exit 1 naming the notification."""
    with open_queue(store) as pq:
        submit(pq, "order-a", "order-b")
        assert set(listed(pq)) == {"order-a", "order-b"}
        raw = RawStore(store)
        gone = delete_newest(raw)  # order-b's Queued
        submit(pq, "order-c")
        if not raw.postgres:
            assert notes(raw)[-1][0] == gone  # SQLite reused the id

        rows = listed(pq)
        assert rows["order-c"]["status"] == "QUEUED"
        assert "order-c" in due(pq)
        assert "order-b" not in due(pq)
        assert rows["order-b"]["waiting_for"].startswith("trail damaged at event 1:")
        damaged = pq.damaged()
        assert [d.request_id for d in damaged] == ["order-b"]
        assert f"notification {gone} was this event" in damaged[0].reason

        report = pq.verify()
        assert not report.ok
        assert any(f"notification {gone}" in p.problem for p in report.problems), report
        assert pq.replay(check=True).differences != []


def test_views_rebuild_after_a_deleted_and_reused_id_gives_a_list_consistent_with_receipts(
    store: str,
) -> None:
    """After ``views rebuild`` every listed status is its receipt's, the deleted intent is
    gone from the list like from the log, and verify and replay --check pass again."""
    with open_queue(store) as pq:
        submit(pq, "order-a", "order-b")
        pq.retry("order-a", operator="ops")
        pq.list()
        delete_newest(RawStore(store))  # order-a's retry
        submit(pq, "order-c")
        assert pq.damaged() != []

    ran = run_cli(store, "views", "rebuild")
    assert ran.code == 0, str(ran)
    assert "differed" in ran.stdout, str(ran)

    with open_queue(store) as pq:
        rows = listed(pq)
        assert set(rows) == {"order-a", "order-b", "order-c"}
        for request_id, row in rows.items():
            assert row["status"] == str(pq.receipt(request_id).status)
            assert row["waiting_for"] is None or "damaged" not in row["waiting_for"]
        assert pq.damaged() == []
        assert sorted(due(pq)) == ["order-a", "order-b", "order-c"]
        assert pq.verify().ok
        assert pq.replay(check=True).differences == []


def test_two_events_whose_ids_were_swapped_before_the_views_read_them_are_named(
    store: str,
) -> None:
    """Events 2 and 3 of an intent swapped in the log: the views do not show a status the
    receipt contradicts; they isolate the intent naming the notification, the other
    intents go on; verify and replay --check exit 1 naming it, also after a rebuild."""
    with open_queue(store) as pq:
        submit(pq, "order-a", "order-b")
        pq.list()
        pq.retry("order-a", operator="ops")
        pq.cancel("order-a", reason="not needed", operator="ops")
        first, _ = swap_ids(RawStore(store), "order-a", 2, 3)  # the views have not read them

        rows = listed(pq)
        assert str(pq.receipt("order-a").status) == "FAILED"
        assert rows["order-a"]["waiting_for"].startswith("trail damaged at event 3:")
        assert f"out of log order at notification {first}" in rows["order-a"]["waiting_for"]
        assert due(pq) == ["order-b"]
        problems = pq.verify().problems
        assert [(p.request_id, p.seq) for p in problems] == [("order-a", 3)], problems
        assert any(f"notification {first}" in d for d in pq.replay(check=True).differences)

        pq.rebuild_views()
        assert any(f"notification {first}" in d for d in pq.replay(check=True).differences)


def test_two_events_swapped_after_the_views_applied_them_fail_verify_and_replay_check(
    store: str,
) -> None:
    """The views applied both events in order, then the log was reordered: verify and
    replay --check exit 1 naming the notification (they both said OK before)."""
    with open_queue(store) as pq:
        submit(pq, "order-a")
        pq.retry("order-a", operator="ops")
        pq.cancel("order-a", reason="not needed", operator="ops")
        assert listed(pq)["order-a"]["status"] == "FAILED"
        first, second = swap_ids(RawStore(store), "order-a", 2, 3)
        problems = [p.problem for p in pq.verify().problems]
        assert any(f"out of log order at notification {first}" in p for p in problems)
        moved = f"notification {second} was this event when the views applied it; it is"
        assert any(f"{moved} notification {first}" in p for p in problems), problems

    ran = run_cli(store, "replay", "--check")
    assert ran.code == 1, str(ran)
    assert f"notification {first}" in ran.stdout, str(ran)


def test_a_gap_in_a_sqlite_log_is_named_and_a_postgres_gap_is_not(store: str) -> None:
    """SQLite leaves no gaps, so a hole is deleted events: named by the catch-up and by
    verify. PostgreSQL skips the ids of rolled-back inserts: a gap there is not damage."""
    with open_queue(store) as pq:
        submit(pq, "order-a", "order-b")
        pq.list()
        submit(pq, "order-c")
        raw = RawStore(store)
        newest = notes(raw)[-1][0]
        set_id(raw, newest, newest + 5)  # before the views read it: a hole of 5 ids

        found = [*(d.reason for d in pq.damaged()), *(p.problem for p in pq.verify().problems)]
        if raw.postgres:
            assert found == []
        else:
            hole = f"notifications {newest} to {newest + 4} are missing from the log"
            assert len(found) == 2, found
            assert all(hole in line for line in found), found
        assert listed(pq)["order-c"]["status"] == "QUEUED"
        assert "order-c" in due(pq)
