"""``ProofQueue``: the one object an agent runtime, the CLI and the HTTP API talk to.

A thin facade: each method validates its arguments and calls one use case
(``proofqueue.usecases``) on the parts built by ``proofqueue.bootstrap``.
"""

from __future__ import annotations

import asyncio
import builtins
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from proofqueue.bootstrap import (
    Components,
    bootstrap,
    new_cipher_key,
    new_log_key,
    shown_store,
    utcnow,
)
from proofqueue.domain.access import Principal
from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.errors import ConfigurationError
from proofqueue.domain.intent import Intent
from proofqueue.domain.receipt import Receipt, receipt_of
from proofqueue.ports import Sealer, Vendor
from proofqueue.process.worker import Worker
from proofqueue.settings import Settings
from proofqueue.usecases import access, audit, operate, reads, replay, submit, tlog
from proofqueue.usecases.audit import VerifyReport
from proofqueue.usecases.replay import ReplayReport
from proofqueue.usecases.tlog import LogReport

MAX_WAIT_S = 3600.0


class ProofQueue:
    """Records intents, buys them from the vendor once, proves what happened.

    ``ProofQueue(settings, vendor=..., sealer=..., clock=..., rand=..., worker_name=...)``:
    every keyword replaces the part ``Settings`` would build (tests give a fake vendor and a
    hand-moved clock). ``ProofQueue.from_env()`` reads ``PROOFQUEUE_*`` variables.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        vendor: Vendor | None = None,
        sealer: Sealer | None = None,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] | None = None,
        worker_name: str | None = None,
    ) -> None:
        self.parts: Components = bootstrap(
            settings, vendor=vendor, sealer=sealer, clock=clock, rand=rand, worker_name=worker_name
        )

    @classmethod
    def from_env(cls, **overrides: Any) -> ProofQueue:
        """Settings from PROOFQUEUE_* environment variables; keywords override them."""
        return cls(Settings.from_env(**overrides))

    @property
    def settings(self) -> Settings:
        return self.parts.settings

    @property
    def store_shown(self) -> str:
        """The store as it may be printed: never its password."""
        return shown_store(self.settings.store)

    @staticmethod
    def new_cipher_key() -> str:
        """A fresh key for PROOFQUEUE_CIPHER_KEY (base64 of 32 random bytes)."""
        return new_cipher_key()

    @staticmethod
    def new_signing_key(origin: str) -> tuple[str, str]:
        """A fresh Ed25519 key for the transparency log named ``origin``, in signed-note
        form: (private key for PROOFQUEUE_SIGNING_KEY, verifier key to publish)."""
        return new_log_key(origin)

    def close(self) -> None:
        self.parts.close()

    def __enter__(self) -> ProofQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- submit -------------------------------------------------------------------------

    def submit(
        self,
        request_id: Any,
        *,
        actor: Any,
        target: Any,
        params: Any = None,
        wait: float = 0.0,
    ) -> Receipt:
        """Record an intent (once per request_id, forever) and, while the breaker is OK,
        attempt it at once; wait up to ``wait`` seconds for it to settle. While the breaker
        is not OK, answer QUEUED at once without calling the vendor."""
        seconds = submit.parse_wait(wait, MAX_WAIT_S)
        request, intent = submit.prepare(self.parts, request_id, actor, target, params)
        return self._drive(submit.record_new(self.parts, request, intent), seconds)

    def submit_many(self, items: Sequence[Mapping[str, Any]]) -> list[Receipt]:
        """Record many intents in one transaction (one commit) and answer their receipts;
        the worker buys them. Each item holds ``request_id``, ``actor``, ``target`` and
        ``params``, and is idempotent as in ``submit``. If any item is invalid, nothing is
        written and the error names the item."""
        return submit.submit_many(self.parts, items)

    def record(
        self, request_id: Any, *, actor: Any, target: Any, params: Any = None
    ) -> tuple[Receipt, bool]:
        """Record an intent (once per request_id, forever) without calling the vendor; answer
        its receipt and whether it is new (False: the same request was already recorded).
        ``attempt`` (or a worker) buys it."""
        request, intent = submit.prepare(self.parts, request_id, actor, target, params)
        saved = submit.record_new(self.parts, request, intent)
        return receipt_of(saved), saved is intent

    def attempt(self, request_id: str, *, follow: float = 0.0) -> Receipt:
        """Attempt a recorded intent now while the breaker is OK (a no-op without a vendor or
        while it is not OK, or when the intent is not due), then follow it for up to
        ``follow`` seconds. Blocks on the vendor: callers on an event loop run it in a
        bounded thread pool of their own."""
        seconds = submit.parse_wait(follow, MAX_WAIT_S)
        return self._drive(self.parts.log.intent(request_id), seconds)

    async def asubmit(
        self, request_id: Any, *, actor: Any, target: Any, params: Any = None, wait: float = 0.0
    ) -> Receipt:
        """``submit`` for asyncio callers: runs in a worker thread, never blocks the loop."""
        return await asyncio.to_thread(
            self.submit, request_id, actor=actor, target=target, params=params, wait=wait
        )

    def _drive(self, intent: Intent, wait: float) -> Receipt:
        """Attempt now if the breaker is OK; then react to the intent for up to ``wait`` s."""
        manager, guard = self.parts.manager, self.parts.guard
        if manager is None or guard.sync(drive=False) != BreakerState.OK or guard.held is not None:
            return receipt_of(intent)
        request_id = intent.request_id
        manager.attempt(request_id)
        until = time.monotonic() + wait
        while True:
            intent = self.parts.log.intent(request_id)
            remaining = until - time.monotonic()
            if intent.is_terminal or remaining <= 0:
                return receipt_of(intent)
            before = intent.version
            pause = manager.react(intent)
            if pause is None and self.parts.log.intent(request_id).version != before:
                continue  # it moved: look again at once
            time.sleep(min(pause or 0.05, remaining))

    # -- reads --------------------------------------------------------------------------

    def receipt(self, request_id: str) -> Receipt:
        """The public-safe receipt at the intent's current status. Once it is terminal and
        a signed checkpoint covers it, ``tlog_proof`` carries its c2sp.org/tlog-proof@v1
        text (index, inclusion hashes, the checkpoint), which anyone can check offline."""
        found = receipt_of(self.parts.log.intent(request_id))
        try:
            proof = tlog.tlog_proof(self.parts, found)
        except ValueError:  # a damaged event elsewhere left the tree or the
            proof = None  # checkpoint unusable: the receipt stands, without a tlog proof
        return found.model_copy(update={"tlog_proof": proof}) if proof else found

    def show(self, request_id: str) -> dict[str, Any]:
        """The whole trail of an intent, sanitized: seq, type, time, fields, hash."""
        return audit.show(self.parts, request_id)

    def catch_up(self) -> None:
        """Bring the views up to date with the log (every read does this itself)."""
        self.parts.projector.catch_up()

    def workers(self) -> list[dict[str, Any]]:
        """The workers seen on this store, with their liveness and calls in flight."""
        return reads.workers(self.parts)

    def list(
        self,
        *,
        status: Sequence[str] = (),
        actor: str | None = None,
        target: str | None = None,
        older_than: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """The operator list, queued and retrying first."""
        return reads.list_intents(
            self.parts,
            status=status,
            actor=actor,
            target=target,
            older_than=older_than,
            limit=limit,
            offset=offset,
        )

    def counts(self) -> dict[str, int]:
        """How many intents are in each status."""
        return reads.counts(self.parts)

    def health(self) -> dict[str, Any]:
        """The breaker health view; ``damaged`` and ``breaker_damaged`` name damaged stored
        events."""
        return reads.health(self.parts)

    def damaged(self) -> builtins.list[dict[str, Any]]:
        """Every stored event the views found damaged and skipped: ``{"intent",
        "request_id", "aggregate_id", "event", "reason"}`` (``verify`` checks the chains)."""
        return reads.damaged(self.parts)

    # -- audit --------------------------------------------------------------------------

    def verify(self, request_ids: Sequence[str] = ()) -> VerifyReport:
        """Recompute proof chains: of ``request_ids``, or of every aggregate in the log."""
        return audit.verify(self.parts, request_ids)

    def replay(
        self,
        *,
        check: bool = False,
        as_of: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ReplayReport:
        """Rebuild every view from the log alone, into a fresh store.

        ``check`` compares the rebuilt views with the live ones; ``as_of`` rebuilds them as
        they stood at that moment (events recorded after it are left out)."""
        return replay.replay(self.parts, check=check, as_of=as_of, progress=progress)

    # -- transparency log -------------------------------------------------------------------

    def checkpoint(self) -> str | None:
        """The latest signed checkpoint (c2sp.org/tlog-checkpoint signed note, text/plain),
        or None before the first. What ``GET /tlog/checkpoint`` serves."""
        return tlog.latest_checkpoint(self.parts)

    def sign_checkpoint(self, now: datetime | None = None) -> str:
        """Sign and record a checkpoint of the tree now (needs PROOFQUEUE_SIGNING_KEY);
        answers the latest one when it already covers every receipt."""
        return tlog.sign_checkpoint(self.parts, now)

    def sign_checkpoint_if_due(self, now: datetime | None = None) -> str | None:
        """For the worker loop, once a round: sign and record a checkpoint when the tree
        grew and the latest checkpoint is ``checkpoint_s`` old; None when nothing was due or
        no signing key is set. Cheap when nothing is due (a catch-up and two indexed reads)."""
        return tlog.sign_checkpoint_if_due(self.parts, now)

    def consistency(self, old_size: int) -> dict[str, Any]:
        """The RFC 6962 consistency proof from ``old_size`` to the latest checkpoint:
        ``{"old_size", "new_size", "proof": [base64], "checkpoint"}``."""
        return tlog.consistency(self.parts, old_size)

    def verify_log(self, checkpoint: str, verifier_key: str) -> LogReport:
        """Check that the log, rebuilt from its events, extends ``checkpoint`` (a signed
        checkpoint an auditor kept) and that its own checkpoints agree with it."""
        return tlog.verify_log(self.parts, checkpoint, verifier_key)

    # -- operator actions ---------------------------------------------------------------

    def retry(self, request_id: str, *, operator: str | None = None) -> Receipt:
        """Attempt now, with the retry budget re-armed. Recorded with the operator's name."""
        return operate.retry(self.parts, request_id, operator)

    def cancel(self, request_id: str, *, reason: str, operator: str | None = None) -> Receipt:
        """Fail an intent the vendor holds no job for. Recorded with the operator's name."""
        return operate.cancel(self.parts, request_id, reason, operator)

    def hold_vendor(self, *, reason: str, operator: str | None = None) -> None:
        """Hold every call to the vendor, in every process, until ``release_vendor``.
        Submits answer QUEUED meanwhile. Recorded with the operator's name and reason."""
        operate.hold_vendor(self.parts, reason, operator)

    def release_vendor(self, *, operator: str | None = None) -> None:
        """End the operator's hold on the vendor."""
        operate.release_vendor(self.parts, operator)

    # -- access tokens (HTTP API) --------------------------------------------------------

    def create_token(self, name: str, role: str) -> tuple[dict[str, Any], str]:
        """A new access token: its listing row and the token, which is shown only now (only
        its SHA-256 is stored). Names are 1-64 of ``A-Za-z0-9._-`` and never reused."""
        return access.create(self.parts, name, role)

    def list_tokens(self) -> builtins.list[dict[str, Any]]:
        """Every token: name, role, created_at, revoked_at. Never the token itself."""
        return access.listing(self.parts)

    def revoke_token(self, name: str) -> None:
        """Revoke the active token ``name`` (``TokenNotFound`` when there is none)."""
        access.revoke(self.parts, name)

    def has_tokens(self) -> bool:
        """Whether any token is active."""
        return access.has_active(self.parts)

    def authenticate(self, token: str) -> Principal | None:
        """The caller an access token stands for, or None when it is not an active token."""
        return access.authenticate(self.parts, token)

    # -- the worker ---------------------------------------------------------------------

    def run_worker(self, stop: threading.Event, concurrency: int | None = None) -> None:
        """Run the process manager in this thread until ``stop`` is set."""
        manager = self.parts.manager
        if manager is None:
            raise ConfigurationError(
                "the worker needs a vendor: set PROOFQUEUE_VENDOR_URL (or pass vendor=...)"
            )
        Worker(
            manager=manager.for_worker(),
            views=self.parts.views,
            guard=self.parts.guard,
            clock=self.parts.clock,
            concurrency=concurrency or self.settings.concurrency,
            idle_s=self.settings.idle_s,
            name=self.parts.worker_name,
            lease_s=self.settings.lease_s,
            checkpoint=self.sign_checkpoint_if_due,
        ).run(stop)

    @contextmanager
    def worker(self, concurrency: int | None = None) -> Iterator[threading.Event]:
        """Run the process manager in a background thread until the block ends."""
        stop = threading.Event()
        errors: list[BaseException] = []

        def target() -> None:
            try:
                self.run_worker(stop, concurrency)
            except BaseException as exc:  # surfaced when the block ends
                errors.append(exc)

        thread = threading.Thread(target=target, name="proofqueue-worker", daemon=True)
        thread.start()
        try:
            yield stop
        finally:
            stop.set()
            thread.join()
        if errors:
            raise errors[0]
