"""The proof chain: each event's hash covers the one before it.

    hash_n = sha256(canonical({"id": aggregate id, "seq": n, "type": event type,
                               "at": event time, "fields": event fields, "prev": hash_n-1}))

with hash_0 = GENESIS. Editing, deleting, reordering an event or moving it to another
aggregate changes a hash that a later event (or a receipt held elsewhere) depends on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from proofqueue.domain.canonical import canonical, encode_checked

GENESIS = "0" * 64


def event_hash(
    aggregate_id: str,
    seq: int,
    type_name: str,
    at: str,
    fields: Mapping[str, Any],
    prev: str,
    *,
    checked: bool = False,
) -> str:
    """The hash of one event. ``checked``: the fields are known to be JSON values (the
    domain made them from validated input), so the walk that refuses anything else is
    skipped; what is read back from the store is always walked."""
    document = {
        "id": aggregate_id,
        "seq": seq,
        "type": type_name,
        "at": at,
        "fields": {key: _plain(value) for key, value in fields.items()},
        "prev": prev,
    }
    encoded = encode_checked(document) if checked else canonical(document)
    return hashlib.sha256(encoded).hexdigest()


def _plain(value: Any) -> Any:
    """Times hash as their ISO 8601 text: events before class version 2 carried them as
    strings, and an upcast event must hash exactly as it was recorded."""
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class ChainLink:
    """One stored event as the verifier sees it."""

    seq: int
    type_name: str
    at: str
    fields: Mapping[str, Any]
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    type_name: str
    problem: str


class ChainChecker:
    """Checks links as they stream by, any number of aggregates interleaved."""

    def __init__(self) -> None:
        self._heads: dict[str, tuple[int, str]] = {}

    def check(self, aggregate_id: str, link: ChainLink) -> ChainBreak | None:
        seq, prev = self._heads.get(aggregate_id, (0, GENESIS))
        if link.seq != seq + 1:
            return ChainBreak(
                seq + 1,
                link.type_name,
                f"expected event {seq + 1} but found event {link.seq}"
                " (an event is missing or out of order)",
            )
        recomputed = event_hash(aggregate_id, link.seq, link.type_name, link.at, link.fields, prev)
        if recomputed != link.hash:
            return ChainBreak(
                link.seq,
                link.type_name,
                "hash does not match its content and predecessor"
                " (edited, reordered or moved from another intent)",
            )
        self._heads[aggregate_id] = (link.seq, link.hash)
        return None


def first_break(aggregate_id: str, links: list[ChainLink]) -> ChainBreak | None:
    """Recompute one aggregate's chain; return the first event that does not match."""
    checker = ChainChecker()
    for link in links:
        found = checker.check(aggregate_id, link)
        if found is not None:
            return found
    return None
