"""A stored version is a position only when the store gives back an integer from 1: any
other value is a ``BadVersion`` (an int of 0 keeping what was stored), which the strict
mapper names as a damaged event before anything reads its state."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import JSONTranscoder, Notification, StoredEvent

from proofqueue.adapters.mapper import DamagedEvent, StrictMapper
from proofqueue.adapters.versions import checked_rows
from proofqueue.domain.version import MAX_VERSION, BadVersion, checked


@pytest.mark.parametrize("good", [1, 2, 17, MAX_VERSION])
def test_a_whole_number_from_one_is_its_own_version(good: int) -> None:
    assert checked(good) == good
    assert type(checked(good)) is int


@pytest.mark.parametrize(
    ("stored", "named"),
    [
        ("abc", "the text 'abc'"),
        ("3", "the text '3'"),  # SQLite stores '3' as 3: text here was never a number to it
        ("\x1b[2J", r"'\x1b[2J'"),  # quoted with its control characters escaped
        (2.5, "the real number 2.5"),
        (float(2**70), "the real number 1.1805916207174113e+21"),
        (None, "missing (NULL)"),
        (b"\x02", "1 byte of binary data"),
        (0, "its version 0 is no position"),
        (-1, "its version -1 is no position"),
        (MAX_VERSION + 1, f"its version {MAX_VERSION + 1} is no position"),
        (True, "a bool"),
    ],
)
def test_anything_else_is_a_bad_version_that_counts_as_zero(stored: object, named: str) -> None:
    bad = checked(stored)
    assert isinstance(bad, BadVersion)
    assert int(bad) == 0
    assert bad.stored == stored
    assert named in bad.reason
    again = checked(bad)  # checked twice: the same stored value
    assert isinstance(again, BadVersion)
    assert again.stored == stored


def test_rows_with_good_versions_come_back_as_they_are() -> None:
    rows = [StoredEvent(uuid.uuid4(), n, "t", b"{}") for n in (1, 2, 3)]
    assert checked_rows(rows) is rows


def test_a_row_with_a_bad_version_is_given_a_bad_version() -> None:
    key = uuid.uuid4()
    rows = [Notification(key, 1, "t", b"{}", id=1), Notification(key, "x", "t", b"{}", id=2)]  # type: ignore[arg-type]
    fixed = checked_rows(rows)
    assert fixed[0] is rows[0]
    assert isinstance(fixed[1].originator_version, BadVersion)
    assert (fixed[1].id, fixed[1].originator_version.stored) == (2, "x")


def test_the_mapper_names_a_bad_version_before_reading_the_state() -> None:
    mapper = StrictMapper(transcoder=JSONTranscoder())
    key = uuid.uuid4()
    with pytest.raises(DamagedEvent) as raised:
        mapper.to_domain_event(StoredEvent(key, checked(None), "no.such:Topic", b"not json"))
    assert raised.value.originator_id == key
    assert isinstance(raised.value.version, BadVersion)
    assert raised.value.reason == "its version is missing (NULL)"
