"""``replay --check``: compare live views with views rebuilt from the log, row by row.

Both sides are read in key order and merged: the operator list and the transparency tree in
pages (keyset pagination), so memory stays flat however many intents there are; the
breaker's rows and the checkpoints, which are few, whole.
Every difference is one line naming the table, the row and the column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from proofqueue.projections.store import ViewDB

PAGE = 2000
Row = dict[str, Any]
Keyed = Iterator[tuple[tuple[Any, ...], Row]]


def _by_intent(db: ViewDB, table: str) -> Keyed:
    """The rows of ``table``, keyed and paged by intent id (the same order on both stores)."""
    order = 'intent_id COLLATE "C"' if db.dialect == "postgres" else "intent_id"
    after = ""
    while True:
        page = db.query(
            f"SELECT * FROM {table} WHERE intent_id > ? ORDER BY {order} LIMIT ?",  # noqa: S608  (constant names)
            (after, PAGE),
        )
        for row in page:
            yield (row["intent_id"],), row
        if len(page) < PAGE:
            return
        after = page[-1]["intent_id"]


def _intents(db: ViewDB) -> Keyed:
    return _by_intent(db, "pq_intents")


def _breaker(db: ViewDB) -> Keyed:
    rows = db.query("SELECT * FROM pq_breaker")
    keyed = [((str(r["breaker_id"]), int(r["seq"])), r) for r in rows]
    yield from sorted(keyed, key=lambda pair: pair[0])


def _counts(db: ViewDB) -> Keyed:
    rows = [r for r in db.query("SELECT status, n FROM pq_counts") if int(r["n"]) != 0]
    yield from sorted(((str(r["status"]),), {**r, "n": int(r["n"])}) for r in rows)


def _holds(db: ViewDB) -> Keyed:
    rows = db.query("SELECT * FROM pq_holds")
    yield from sorted(((str(r["vendor"]),), r) for r in rows)


def _paged(db: ViewDB, table: str, key: tuple[str, ...]) -> Keyed:
    """A table with an integer key, in key order, a page at a time (row-value keyset)."""
    columns = ", ".join(key)
    marks = ", ".join("?" for _ in key)
    after: tuple[Any, ...] = tuple(-1 for _ in key)
    while True:
        page = db.query(
            f"SELECT * FROM {table} WHERE ({columns}) > ({marks})"  # noqa: S608  (constants)
            f" ORDER BY {columns} LIMIT ?",
            (*after, PAGE),
        )
        for row in page:
            yield tuple(int(row[k]) for k in key), row
        if len(page) < PAGE:
            return
        after = tuple(int(page[-1][k]) for k in key)


def _tlog_intents(db: ViewDB) -> Keyed:
    return _by_intent(db, "pq_tlog_intents")


def _checkpoints(db: ViewDB) -> Keyed:
    rows = db.query("SELECT * FROM pq_tlog_checkpoints")
    yield from sorted(((str(r["origin"]), int(r["seq"])), r) for r in rows)


def _name(table: str, row: Row) -> str:
    if table == "pq_intents":
        return f"pq_intents request_id={row['request_id']}"
    if table == "pq_breaker":
        return f"pq_breaker vendor={row['vendor']} seq={row['seq']}"
    if table == "pq_tlog_leaves":
        return f"pq_tlog_leaves idx={row['idx']}"
    if table == "pq_tlog_nodes":
        return f"pq_tlog_nodes level={row['level']} idx={row['idx']}"
    if table == "pq_counts":
        return f"pq_counts status={row['status']}"
    if table == "pq_holds":
        return f"pq_holds vendor={row['vendor']}"
    if table == "pq_tlog_intents":
        return f"pq_tlog_intents intent_id={row['intent_id']}"
    if table == "pq_damaged":
        return (
            f"pq_damaged notification={row['notification_id']}"
            f" aggregate_id={row['aggregate_id']} event={row['version']} ({row['reason']})"
        )
    return f"pq_tlog_checkpoints origin={row['origin']} seq={row['seq']}"


def _merge(table: str, live: Keyed, rebuilt: Keyed) -> Iterator[str]:
    left, right = next(live, None), next(rebuilt, None)
    while left is not None or right is not None:
        if right is None or (left is not None and left[0] < right[0]):
            yield f"{_name(table, left[1])}: in the live view but not in the log"  # type: ignore[index]
            left = next(live, None)
        elif left is None or right[0] < left[0]:
            yield f"{_name(table, right[1])}: missing from the live view"
            right = next(rebuilt, None)
        else:
            a, b = left[1], right[1]
            for column in sorted(set(a) | set(b)):
                if a.get(column) != b.get(column):
                    yield (
                        f"{_name(table, b)}: {column} is {a.get(column)!r} in the live view,"
                        f" {b.get(column)!r} rebuilt from the log"
                    )
            left, right = next(live, None), next(rebuilt, None)


def compare_views(live: ViewDB, rebuilt: ViewDB) -> list[str]:
    """Every difference between the live views and the rebuilt ones."""
    return [
        *_merge("pq_intents", _intents(live), _intents(rebuilt)),
        *_merge("pq_breaker", _breaker(live), _breaker(rebuilt)),
        *_merge("pq_counts", _counts(live), _counts(rebuilt)),
        *_merge("pq_holds", _holds(live), _holds(rebuilt)),
        *_merge("pq_tlog_intents", _tlog_intents(live), _tlog_intents(rebuilt)),
        *_merge("pq_tlog_leaves", _leaves(live), _leaves(rebuilt)),
        *_merge("pq_tlog_nodes", _nodes(live), _nodes(rebuilt)),
        *_merge("pq_tlog_checkpoints", _checkpoints(live), _checkpoints(rebuilt)),
        *_merge("pq_damaged", _damaged(live), _damaged(rebuilt)),
    ]


def _damaged(db: ViewDB) -> Keyed:
    """The damaged events each side recorded (the same, when the views follow the log)."""
    return _paged(db, "pq_damaged", ("notification_id",))


def _leaves(db: ViewDB) -> Keyed:
    return _paged(db, "pq_tlog_leaves", ("idx",))


def _nodes(db: ViewDB) -> Keyed:
    return _paged(db, "pq_tlog_nodes", ("level", "idx"))
