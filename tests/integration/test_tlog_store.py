"""Receipts anyone can verify offline, end to end on a real store.

Intents are settled (and failed) through the Python API with a fake vendor; checkpoints are
signed and receipts exported by the ``proofqueue`` command, and checked by
``verify-receipt`` with nothing but the receipt and the verifier key. Tampering with any
field of a receipt, any proof hash, the checkpoint's body or its signature fails naming the
cause; a log whose events were removed, or a store restored from an older copy, fails
``verify-log --since`` an earlier checkpoint, and a log that only grew passes.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from proofqueue import ProofQueue, Settings
from proofqueue.domain import merkle
from proofqueue.domain.intent import intent_id
from proofqueue.domain.receipt import receipt_json, receipt_of
from proofqueue.entrypoints.cli import main
from proofqueue.offline import receipt_leaf
from proofqueue.projections import tlog as tlog_view
from proofqueue.testing.fakes import Clock, FakeVendor
from tests.integration.helpers import Ran, RawStore, cli_env

ORIGIN = "example.com/proofqueue"
PRIVATE, VERIFIER = ProofQueue.new_signing_key(ORIGIN)


class Shop:
    """A ProofQueue on ``store`` with a fake vendor, a hand-moved clock and the log's key."""

    def __init__(self, store: str, *, key: str | None = PRIVATE) -> None:
        self.store = store
        self.vendor = FakeVendor()
        self.clock = Clock()
        settings = Settings(store=store, signing_key=SecretStr(key) if key else None)
        self.pq = ProofQueue(settings, vendor=self.vendor, clock=self.clock)

    def settle(self, *request_ids: str) -> None:
        for rid in request_ids:
            self.pq.submit(rid, actor="agent-7", target="0xP/logo", params={"n": rid})
            job = self.vendor.jobs_for(rid)[0].job_id
            self.vendor.set_phase(job, "COMPLETED", deliverable_id=f"deliv-{rid}")
            self.clock.advance(1)
            assert self.pq.parts.manager is not None
            self.pq.parts.manager.follow(rid, job)
            assert self.pq.receipt(rid).status == "SETTLED"

    def fail(self, *request_ids: str) -> None:
        """Intents the vendor never saw, cancelled by an operator: FAILED."""
        with ProofQueue(self.pq.settings, clock=self.clock) as queued_only:
            for rid in request_ids:
                queued_only.submit(rid, actor="agent-7", target="0xP/logo", params={"n": rid})
                self.clock.advance(1)
                queued_only.cancel(rid, reason="not needed", operator="ops")

    def close(self) -> None:
        self.pq.close()


@pytest.fixture
def shop(store: str) -> Iterator[Shop]:
    opened = Shop(store)
    yield opened
    opened.close()


def run_cli(store: str, *args: str, env: dict[str, str] | None = None) -> Ran:
    """``proofqueue ARGS`` in its own process against ``store``."""
    done = subprocess.run(
        [sys.executable, "-m", "proofqueue", *args],
        env=cli_env(store, **(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Ran(tuple(args), done.returncode, done.stdout, done.stderr)


def cli(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
    """The command in this process (fast; verify-receipt opens no store)."""
    return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)


def keyed(store: str) -> dict[str, str]:
    return {"PROOFQUEUE_SIGNING_KEY": PRIVATE}


def verify(receipt: dict[str, Any], tmp_path: Path) -> Any:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    return cli("verify-receipt", str(path), "--key", VERIFIER)


# -- the tree is made of the receipts -----------------------------------------------------


def test_the_leaf_of_every_terminal_intent_is_its_receipt_in_rfc8785(shop: Shop) -> None:
    shop.settle("s-1", "s-2", "s-3")
    shop.fail("f-1")
    shop.settle("s-4")
    shop.fail("f-2")
    shop.pq.catch_up()
    terminal = ["s-1", "s-2", "s-3", "f-1", "s-4", "f-2"]
    with shop.pq.parts.db.reading() as cur:
        assert tlog_view.size(cur) == len(terminal)
        for index, rid in enumerate(terminal):
            intent = shop.pq.parts.log.intent(rid)
            found = tlog_view.last_leaf_of(cur, str(intent_id(rid)))
            assert found is not None
            assert found.index == index
            assert found.leaf == receipt_leaf(receipt_json(receipt_of(intent)))
        leaves = [merkle.leaf_hash(row.leaf) for row in tlog_view.leaves(cur, 0, 100)]
        for size in range(1, len(terminal) + 1):
            assert tlog_view.root(cur, size) == merkle.root(leaves[:size])


def test_replay_check_covers_the_tree_and_the_checkpoints(shop: Shop) -> None:
    shop.settle("a", "b", "c")
    shop.pq.sign_checkpoint()
    shop.fail("d")
    assert shop.pq.replay(check=True).differences == []
    with shop.pq.parts.db.transaction() as cur:
        cur.run("UPDATE pq_tlog_leaves SET leaf = ? WHERE idx = 1", ('{"x":1}',))
    differences = shop.pq.replay(check=True).differences
    assert len(differences) == 1
    assert differences[0].startswith("pq_tlog_leaves idx=1: leaf is '{\"x\":1}' in the live view")


# -- checkpoints ----------------------------------------------------------------------------


def test_a_worker_signs_within_checkpoint_s_of_growth_and_not_more_often(shop: Shop) -> None:
    pq, clock = shop.pq, shop.clock
    assert pq.sign_checkpoint_if_due() is None  # an empty tree: nothing to prove
    shop.settle("a")
    first = pq.sign_checkpoint_if_due()
    assert first is not None
    assert first.startswith(f"{ORIGIN}\n1\n")
    assert pq.sign_checkpoint_if_due() is None  # no growth
    shop.settle("b")  # grew, one second later
    assert pq.sign_checkpoint_if_due() is None  # the last one is younger than checkpoint_s
    clock.advance(pq.settings.checkpoint_s)
    second = pq.sign_checkpoint_if_due()
    assert second is not None
    assert second.startswith(f"{ORIGIN}\n2\n")
    assert pq.checkpoint() == second


def test_without_a_key_nothing_is_signed_and_receipts_carry_no_proof(store: str) -> None:
    keyless = Shop(store, key=None)
    try:
        keyless.settle("a")
        assert keyless.pq.sign_checkpoint_if_due() is None
        assert keyless.pq.receipt("a").tlog_proof is None
        assert keyless.pq.checkpoint() is None
    finally:
        keyless.close()
    assert run_cli(store, "checkpoint").code == 1
    refused = run_cli(store, "checkpoint", "--sign")
    assert refused.code == 2
    assert "PROOFQUEUE_SIGNING_KEY" in refused.stderr


def test_the_checkpoints_are_in_the_log_and_their_chain_verifies(shop: Shop) -> None:
    shop.settle("a")
    shop.pq.sign_checkpoint()
    shop.settle("b")
    shop.pq.sign_checkpoint()
    report = shop.pq.verify()
    assert report.ok
    log = shop.pq.parts.log.transparency_log(ORIGIN)
    assert log is not None
    assert log.size == 2
    assert log.version == 3


# -- a receipt, end to end ------------------------------------------------------------------


def test_settle_sign_export_and_verify_a_receipt_offline(shop: Shop, tmp_path: Path) -> None:
    shop.settle("r-1", "r-2", "r-3")
    shop.fail("r-4")
    shop.settle("r-5")
    store = shop.store

    before = run_cli(store, "receipt", "r-2", "--json").json()
    assert before["tlog_proof"] is None  # no checkpoint covers it yet
    assert shop.pq.receipt("r-2").model_dump(mode="json") == {
        k: v for k, v in before.items() if k != "tlog_proof"
    }

    signed = run_cli(store, "checkpoint", "--sign", env=keyed(store))
    assert signed.code == 0, str(signed)
    assert signed.stdout.startswith(f"{ORIGIN}\n5\n")
    assert run_cli(store, "checkpoint").stdout == signed.stdout

    for rid in ("r-2", "r-4"):
        exported = run_cli(store, "receipt", rid, "--json")
        receipt = exported.json()
        assert set(receipt) == set(before)
        assert receipt["tlog_proof"].startswith("c2sp.org/tlog-proof@v1\nindex ")
        assert receipt["tlog_proof"].endswith(signed.stdout)
        path = tmp_path / f"{rid}.json"
        path.write_text(exported.stdout)
        ran = run_cli(store, "verify-receipt", str(path), "--key", VERIFIER)
        assert ran.code == 0, str(ran)
        assert "receipt verified" in ran.stdout


def _exported(shop: Shop) -> dict[str, Any]:
    shop.settle("r-1", "r-2", "r-3")
    shop.fail("r-4")
    shop.pq.sign_checkpoint()
    return receipt_json(shop.pq.receipt("r-2"))


def _changed(value: Any) -> Any:
    if value is None:
        return "x"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def test_changing_any_field_of_the_receipt_fails_naming_inclusion(
    shop: Shop, tmp_path: Path
) -> None:
    receipt = _exported(shop)
    assert verify(receipt, tmp_path).exit_code == 0
    for field in receipt:
        if field == "tlog_proof":
            continue
        forged = {**receipt, field: _changed(receipt[field])}
        ran = verify(forged, tmp_path)
        assert ran.exit_code == 1, field
        assert "receipt not verified: inclusion:" in ran.output, (field, ran.output)
    for field in ("status", "attempts"):  # removed, or a field added
        forged = {k: v for k, v in receipt.items() if k != field}
        assert "inclusion:" in verify(forged, tmp_path).output
    assert "inclusion:" in verify({**receipt, "extra": 1}, tmp_path).output


def test_changing_a_proof_hash_the_index_or_the_checkpoint_fails_naming_the_cause(
    shop: Shop, tmp_path: Path
) -> None:
    receipt = _exported(shop)
    proof: str = receipt["tlog_proof"]
    head, _, note = proof.partition("\n\n")
    lines = head.split("\n")
    hashes = lines[2:]
    assert len(hashes) >= 2
    for i, encoded in enumerate(hashes):
        raw = bytearray(base64.b64decode(encoded))
        raw[0] ^= 1
        forged_lines = [*lines[:2], *hashes]
        forged_lines[2 + i] = base64.b64encode(bytes(raw)).decode()
        forged = {**receipt, "tlog_proof": "\n".join(forged_lines) + "\n\n" + note}
        ran = verify(forged, tmp_path)
        assert ran.exit_code == 1, ran.output
        assert "inclusion:" in ran.output, ran.output
    other_index = head.replace("index 1\n", "index 0\n")
    assert other_index != head
    ran = verify({**receipt, "tlog_proof": other_index + "\n\n" + note}, tmp_path)
    assert ran.exit_code == 1
    assert "inclusion:" in ran.output

    body, _, signature = note.partition("\n\n")
    origin, size, root = body.split("\n")
    root_raw = bytearray(base64.b64decode(root))
    root_raw[5] ^= 0x40
    for forged_body in (
        f"{origin}\n{size}\n{base64.b64encode(bytes(root_raw)).decode()}",
        f"{origin}\n{int(size) + 1}\n{root}",
    ):
        forged = {**receipt, "tlog_proof": f"{head}\n\n{forged_body}\n\n{signature}"}
        ran = verify(forged, tmp_path)
        assert ran.exit_code == 1
        assert "checkpoint signature:" in ran.output, ran.output

    name, encoded = signature.rstrip("\n").rsplit(" ", 1)
    sig = bytearray(base64.b64decode(encoded))
    sig[-1] ^= 1
    forged_sig = f"{name} {base64.b64encode(bytes(sig)).decode()}\n"
    ran = verify({**receipt, "tlog_proof": f"{head}\n\n{body}\n\n{forged_sig}"}, tmp_path)
    assert ran.exit_code == 1, ran.output
    assert "checkpoint signature:" in ran.output, ran.output

    _, other = ProofQueue.new_signing_key(ORIGIN)
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    ran = cli("verify-receipt", str(path), "--key", other)
    assert ran.exit_code == 1
    assert "checkpoint signature:" in ran.output
    ran = verify({**receipt, "tlog_proof": None}, tmp_path)
    assert ran.exit_code == 1
    assert "tlog_proof:" in ran.output


def test_verify_receipt_reads_the_key_from_a_file_and_the_receipt_from_stdin(
    shop: Shop, tmp_path: Path
) -> None:
    receipt = _exported(shop)
    key_file = tmp_path / "log.vkey"
    key_file.write_text(VERIFIER + "\n")
    ran = cli("verify-receipt", "-", "--key", str(key_file), "--json", input=json.dumps(receipt))
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output) == {"ok": True, "index": 1, "size": 4, "origin": ORIGIN}
    bad = cli("verify-receipt", "-", "--key", VERIFIER, input="not json")
    assert bad.exit_code == 2


# -- the log against a checkpoint an auditor kept --------------------------------------------


def test_a_grown_honest_log_extends_an_earlier_checkpoint(shop: Shop, tmp_path: Path) -> None:
    shop.settle("a", "b", "c")
    held = tmp_path / "checkpoint-3"
    held.write_text(shop.pq.sign_checkpoint())
    shop.settle("d", "e")
    shop.fail("f")
    shop.pq.sign_checkpoint()
    ran = run_cli(shop.store, "verify-log", "--since", str(held), "--key", VERIFIER, "--json")
    assert ran.code == 0, str(ran)
    assert ran.json()["ok"] is True
    assert ran.json()["size"] == 6

    found = run_cli(shop.store, "consistency", "3", "--json").json()
    assert (found["old_size"], found["new_size"]) == (3, 6)
    old_root = base64.b64decode(held.read_text().split("\n")[2])
    new_root = base64.b64decode(found["checkpoint"].split("\n")[2])
    proof = [base64.b64decode(h) for h in found["proof"]]
    assert merkle.verify_consistency(3, 6, proof, old_root, new_root)
    assert run_cli(shop.store, "consistency", "7").code == 2


def test_deleting_the_settled_event_of_an_intent_fails_verify_log(
    shop: Shop, tmp_path: Path
) -> None:
    shop.settle("a", "b", "c")
    held = tmp_path / "checkpoint"
    held.write_text(shop.pq.sign_checkpoint())
    last = RawStore(shop.store).events("b")[-1][0]
    RawStore(shop.store).delete_event("b", last)
    ran = run_cli(shop.store, "verify-log", "--since", str(held), "--key", VERIFIER)
    assert ran.code == 1, str(ran)
    assert "fewer than the 3 of the checkpoint held" in ran.stdout


def test_deleting_a_settled_event_before_later_growth_fails_verify_log(
    shop: Shop, tmp_path: Path
) -> None:
    shop.settle("a", "b", "c")
    held = tmp_path / "checkpoint"
    held.write_text(shop.pq.sign_checkpoint())
    shop.settle("d", "e")
    shop.pq.sign_checkpoint()
    RawStore(shop.store).delete_event("b", RawStore(shop.store).events("b")[-1][0])
    ran = run_cli(shop.store, "verify-log", "--since", str(held), "--key", VERIFIER)
    assert ran.code == 1, str(ran)
    assert "do not hash to the root of the checkpoint held" in ran.stdout


def _copy(store: str, to: Path) -> None:
    with closing(sqlite3.connect(store)) as source, closing(sqlite3.connect(to)) as copy:
        source.backup(copy)


def test_a_store_restored_from_before_some_settlements_fails_verify_log(
    sqlite_store: str, tmp_path: Path
) -> None:
    shop = Shop(sqlite_store)
    try:
        shop.settle("a", "b")
        backup = tmp_path / "backup.db"
        _copy(sqlite_store, backup)
        shop.settle("c", "d")
        held = tmp_path / "checkpoint"
        held.write_text(shop.pq.sign_checkpoint())
    finally:
        shop.close()
    for suffix in ("-wal", "-shm"):
        Path(sqlite_store + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, sqlite_store)
    ran = run_cli(sqlite_store, "verify-log", "--since", str(held), "--key", VERIFIER)
    assert ran.code == 1, str(ran)
    assert "restored from a copy older than that checkpoint" in ran.stdout

    # The restored store grows again, with other settlements, and is checkpointed anew: the
    # new history does not extend the checkpoint held.
    regrown = Shop(sqlite_store)
    try:
        regrown.settle("x", "y", "z")
        regrown.pq.sign_checkpoint()
    finally:
        regrown.close()
    ran = run_cli(sqlite_store, "verify-log", "--since", str(held), "--key", VERIFIER)
    assert ran.code == 1, str(ran)
    assert "do not hash to the root of the checkpoint held" in ran.stdout


def test_verify_log_refuses_a_checkpoint_not_signed_by_the_key(shop: Shop, tmp_path: Path) -> None:
    shop.settle("a")
    held = tmp_path / "checkpoint"
    held.write_text(shop.pq.sign_checkpoint())
    _, other = ProofQueue.new_signing_key(ORIGIN)
    ran = run_cli(shop.store, "verify-log", "--since", str(held), "--key", other)
    assert ran.code == 1
    assert "the checkpoint held" in ran.stdout


# -- stores whose views predate the tree ----------------------------------------------------


def test_a_store_whose_views_predate_the_tree_gets_it_built_from_the_log(
    sqlite_store: str,
) -> None:
    shop = Shop(sqlite_store)
    try:
        shop.settle("a", "b")
        shop.fail("c")
        shop.pq.catch_up()
    finally:
        shop.close()
    with closing(sqlite3.connect(sqlite_store)) as raw, raw:
        for table in tlog_view.TABLES:
            raw.execute(f"DROP TABLE {table}")
    again = Shop(sqlite_store)
    try:
        again.settle("d")
        again.pq.catch_up()
        with again.pq.parts.db.reading() as cur:
            assert tlog_view.size(cur) == 4
        assert again.pq.replay(check=True).differences == []
        again.pq.sign_checkpoint()
        assert again.pq.receipt("a").tlog_proof is not None
    finally:
        again.close()
