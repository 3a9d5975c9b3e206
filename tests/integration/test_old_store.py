"""A store written by proofqueue 0.1 (tests/fixtures/store-v0.1.db) opens, verifies and
replays unchanged under this version: the log is forever, the code is not."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from proofqueue import ProofQueue, Settings

FIXTURES = Path(__file__).parent.parent / "fixtures"
CIPHER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


@pytest.fixture
def old_store(tmp_path: Path) -> str:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / "store-v0.1.db", path)
    return str(path)


def expected() -> dict[str, object]:
    data: dict[str, object] = json.loads((FIXTURES / "store-v0.1.json").read_text())
    return data


def test_every_chain_of_an_old_store_verifies(old_store: str) -> None:
    """verify --all finds every chain of the 0.1 store intact."""
    with ProofQueue(Settings(store=old_store)) as pq:
        report = pq.verify()
    assert report.problems == []
    assert report.intents == len(expected()["receipts"])  # type: ignore[arg-type]


def test_receipts_of_an_old_store_are_unchanged(old_store: str) -> None:
    """Each receipt read today equals the one 0.1 gave, proof hash included."""
    receipts = expected()["receipts"]
    assert isinstance(receipts, dict)
    with ProofQueue(Settings(store=old_store, cipher_key=SecretStr(CIPHER_KEY))) as pq:
        for request_id, receipt in receipts.items():
            assert pq.receipt(request_id).model_dump(mode="json") == receipt


def test_an_old_store_replays_to_the_same_views(old_store: str) -> None:
    """replay --check rebuilds the views from the 0.1 log and finds them equal."""
    with ProofQueue(Settings(store=old_store)) as pq:
        report = pq.replay(check=True)
        assert report.differences == []
        assert pq.health().state == expected()["health_state"]


def test_sealed_params_of_an_old_store_open_with_its_key(old_store: str) -> None:
    """Params sealed by 0.1 are still shown sanitized and accepted as the same request."""
    with ProofQueue(Settings(store=old_store, cipher_key=SecretStr(CIPHER_KEY))) as pq:
        again = pq.submit(
            "sealed-1", actor="agent-b", target="0xP/api", params={"api_key": "sk-" + "x" * 20}
        )
        assert again.status == "SETTLED"
        shown = json.dumps(pq.show("sealed-1").model_dump(mode="json"))
    assert "sk-xxxx" not in shown


def test_times_of_old_events_are_read_as_datetimes_and_still_verify(old_store: str) -> None:
    """Events stored with ISO 8601 text (class version 1) are upcast to datetimes, and a
    new event appended after them (version 2) keeps the chain verifying."""
    with ProofQueue(Settings(store=old_store)) as pq:
        intent = pq.parts.log.intent("retrying-1")
        assert isinstance(intent.deadline, datetime)
        assert isinstance(intent.next_attempt_at, datetime)
        pq.retry("retrying-1", operator="auditor")
        report = pq.verify(["retrying-1"])
        events = pq.show("retrying-1").events
    assert report.ok
    assert str(events[-1].fields["next_attempt_at"]).endswith("+00:00")
