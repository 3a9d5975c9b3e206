"""A batch's transparency leaf (``batch.leaf_of``, made without the Receipt model) is
``tlog.leaf_of`` of the Receipt, byte for byte, or fails as making that Receipt fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue.domain.receipt import Receipt
from proofqueue.projections import tlog
from proofqueue.projections.batch import leaf_of

_zones = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(-23 * 3600, 23 * 3600).map(lambda s: timezone(timedelta(seconds=s))),
)
_times = st.datetimes(timezones=_zones)
_text = st.text(max_size=6) | st.sampled_from(["\ud800", "é", "\u2028", '"\\', "\x00"])
_odd = st.one_of(st.none(), st.integers(0, 3), st.booleans(), st.floats(allow_nan=False))


def _outcome(make: Any) -> tuple[str, Any]:
    try:
        return "leaf", make()
    except Exception as exc:  # the same failure, where the model fails
        return "error", type(exc).__name__


@given(
    st.fixed_dictionaries(
        {
            "request_id": _text | _odd,
            "actor": _text,
            "target": _text,
            "attempts": st.integers(0, 2**60) | st.booleans(),
            "job_id": st.none() | _text | _odd,
            "deliverable_id": st.none() | _text,
        }
    ),
    _times,
    st.none() | _times,
    _text | _odd,
)
@settings(max_examples=300, deadline=None)
def test_a_leaf_is_the_receipts_leaf(
    row: dict[str, Any], queued: datetime, settled: datetime | None, proof: Any
) -> None:
    made = _outcome(lambda: leaf_of(row, queued.isoformat(), settled, proof))

    def receipt() -> bytes:
        return tlog.leaf_of(
            Receipt(
                request_id=row["request_id"],
                actor=row["actor"],
                target=row["target"],
                status="SETTLED" if settled is not None else "FAILED",
                attempts=int(row["attempts"]),
                job_id=row["job_id"],
                deliverable_id=row["deliverable_id"] if settled is not None else None,
                queued_at=datetime.fromisoformat(queued.isoformat()),
                settled_at=settled,
                proof=proof,
            )
        )

    assert made == _outcome(receipt)
