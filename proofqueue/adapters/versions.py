"""Stored versions checked where rows of the events table become ``StoredEvent`` and
``Notification`` objects: a version that is no position (TEXT, REAL, NULL or BLOB in a
damaged SQLite row; 0, a negative or a 64-bit number in PostgreSQL's) becomes a
``BadVersion`` (``domain.version``), an ``int`` of 0 that keeps what was stored.

So the code that counts, compares, orders or stores versions (the views' catch-up, their
record of damage, verify's scan) never fails on one, and the strict mapper names the event
as damaged: one bad row is named and isolated, it never stops the rest of the log.

eventsourcing's recorder reads rows in ``select_events`` and ``select_notifications``
(``check_recorder`` wraps both); the project's own reads (``scan``, ``loading``, the views'
catch-up) take each version through ``checked``. Loading an aggregate leaves such a row
out of its trail (``placed``) and names it where the trail misses an event (``missing``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from eventsourcing.persistence import StoredEvent

from proofqueue.adapters.mapper import DamagedEvent
from proofqueue.domain.version import MAX_VERSION, BadVersion, checked, is_bad

__all__ = ["BadVersion", "check_recorder", "checked", "checked_rows", "missing", "placed"]

Row = TypeVar("Row", bound=StoredEvent)


def checked_rows(rows: Sequence[Row]) -> Sequence[Row]:
    """``rows`` as they are when every version is good (the usual case: one type check a
    row); otherwise a list with each bad version made a ``BadVersion``."""
    for row in rows:
        version = row.originator_version
        if type(version) is not int or not 0 < version <= MAX_VERSION:
            break
    else:
        return rows
    return [
        dataclasses.replace(row, originator_version=checked(row.originator_version))
        if is_bad(row.originator_version)
        else row
        for row in rows
    ]


def check_recorder(recorder: Any) -> None:
    """Make ``recorder``'s ``select_events`` and ``select_notifications`` give their rows
    through ``checked_rows``."""
    for name in ("select_events", "select_notifications"):
        read = getattr(recorder, name, None)
        if callable(read):
            setattr(recorder, name, _checking(read))


def _checking(read: Callable[..., Sequence[Any]]) -> Callable[..., Sequence[Any]]:
    def checked_read(*args: Any, **kwargs: Any) -> Sequence[Any]:
        return checked_rows(read(*args, **kwargs))

    checked_read.__doc__ = read.__doc__
    return checked_read


def placed(events: Iterable[Any], unplaced: list[DamagedEvent]) -> Iterator[Any]:
    """The events, less the rows whose stored version is no position (kept in
    ``unplaced``): the repository's events are a ``map`` of the mapper over the rows, which
    goes on with the next row after one it could not decode."""
    rows = iter(events)
    while True:
        try:
            event = next(rows)
        except StopIteration:
            return
        except DamagedEvent as exc:
            if not isinstance(exc.version, BadVersion):
                raise
            unplaced.append(exc)
            continue
        yield event


def missing(seq: int, event: Any, rest: Iterator[Any], unplaced: list[DamagedEvent]) -> str:
    """Why event ``seq`` is not where it should be: a row with no position is its likely
    place (SQLite orders NULL before the numbers, TEXT and BLOB after them)."""
    if event.originator_version > seq and not unplaced:
        with contextlib.suppress(Exception):  # only looking for one
            for _ in rest:
                if unplaced:
                    break
    if event.originator_version > seq and unplaced:
        return unplaced[0].reason
    return f"expected event {seq}, found {event.originator_version}"
