"""Putting views rebuilt from the log in place of the live ones, in one transaction.

The rebuilt views are made apart (a throwaway SQLite file, as ``replay`` makes them); then
one transaction takes the views' position first (so every catch-up waits for it, and
finds the position moved when it may go on), empties each view built from the log and
copies the rebuilt rows in. Readers see the old views until it commits, then the new ones.
What is not built from the log is kept: heartbeats, the breaker's shared window, the
worker's notes and the access tokens.
"""

from __future__ import annotations

from proofqueue.domain.errors import StoreDamaged
from proofqueue.projections import tlog
from proofqueue.projections.runner import NAME
from proofqueue.projections.store import ViewDB, store_fault

# Every table built from the log alone (views.py, damage.py, order.py, tlog.py).
FROM_THE_LOG = (
    "pq_intents",
    "pq_breaker",
    "pq_counts",
    "pq_holds",
    "pq_damaged",
    "pq_heads",
    "pq_tail",
    *tlog.TABLES,
)
PAGE = 5000


def replace_views(live: ViewDB, rebuilt: ViewDB) -> int:
    """Replace the live views by ``rebuilt`` (a SQLite view store); return the position
    the live views then stand at (the catch-up goes on from it). On a SQLite store whose
    view tables are damaged (a corrupt page, a damaged schema), they are dropped and made
    anew as the rebuilt store has them first."""
    try:
        return _replace(live, rebuilt)
    except Exception as exc:
        if live.dialect != "sqlite" or not store_fault(exc):
            raise
    _remake(live, rebuilt)
    return _replace(live, rebuilt)


def _remake(live: ViewDB, rebuilt: ViewDB) -> None:
    """Drop the live tables built from the log and create them (and their indexes) with
    the rebuilt store's own statements, in one transaction."""
    made = rebuilt.query(
        "SELECT type, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        " ORDER BY type DESC"  # tables before their indexes
    )
    with live.transaction() as cur:
        for table in FROM_THE_LOG:
            try:
                cur.run(f"DROP TABLE IF EXISTS {table}")
            except Exception as exc:  # its pages cannot even be freed
                if not store_fault(exc):
                    raise
                raise StoreDamaged(f"the view table {table} cannot be dropped", str(exc)) from None
        for row in made:
            if row["tbl_name"] in FROM_THE_LOG:
                cur.run(str(row["sql"]))


def _replace(live: ViewDB, rebuilt: ViewDB) -> int:
    row = rebuilt.query("SELECT position FROM pq_position WHERE name = ?", (NAME,))
    position = int(row[0]["position"]) if row else 0
    with live.transaction() as cur:
        # First: a catch-up takes this row before anything else, so none runs meanwhile.
        cur.run("UPDATE pq_position SET position = ? WHERE name = ?", (position, NAME))
        for table in FROM_THE_LOG:
            cur.run(f"DELETE FROM {table}")  # noqa: S608  (constant names)
            after = 0
            while True:
                rows = rebuilt.query(
                    f"SELECT rowid AS pq_rowid, * FROM {table}"  # noqa: S608  (constant names)
                    " WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    (after, PAGE),
                )
                if not rows:
                    break
                after = int(rows[-1]["pq_rowid"])
                columns = [name for name in rows[0] if name != "pq_rowid"]
                marks = ", ".join("?" for _ in columns)
                cur.many(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    [[r[name] for name in columns] for r in rows],
                )
    return position
