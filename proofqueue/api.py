"""``ProofQueue``: the one object an agent runtime, the CLI and the HTTP API talk to.

A thin facade: each method validates its arguments and calls one use case
(``proofqueue.usecases``) on the parts built by ``proofqueue.bootstrap``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial

from proofqueue.bootstrap import (
    Components,
    bootstrap,
    new_cipher_key,
    new_log_key,
    shown_store,
    utcnow,
)
from proofqueue.domain.errors import ConfigurationError
from proofqueue.facade.auditing import Auditing
from proofqueue.facade.observing import Observing
from proofqueue.facade.operating import Operating
from proofqueue.facade.reading import Reading
from proofqueue.facade.submitting import Submitting
from proofqueue.facade.thread_grouping import ThreadGroupCommit
from proofqueue.ports import AsyncVendor, Sealer, Vendor
from proofqueue.process.worker import Worker
from proofqueue.settings import Settings
from proofqueue.usecases.batch import prepare_item, record_prepared
from proofqueue.usecases.observe import Figures as Figures  # re-exported: the entry points
from proofqueue.usecases.observe import Timeline as Timeline  # read these (dashboards)


class ProofQueue(Submitting, Reading, Auditing, Operating, Observing):
    """Records intents, buys them from the vendor once, proves what happened.

    ``ProofQueue(settings, vendor=..., sealer=..., clock=..., rand=..., worker_name=...)``:
    every keyword replaces the part ``Settings`` would build (tests give a fake vendor and a
    hand-moved clock). ``ProofQueue.from_env()`` reads ``PROOFQUEUE_*`` variables. Use it as
    a context manager (or call ``close``).

    ``vendor``: any object with the ``Vendor`` port's methods, or the ``AsyncVendor`` port's
    coroutines (run on a private event loop thread, each call bounded by
    ``settings.call_s``); without one, the ACP-shaped HTTP client of
    ``PROOFQUEUE_VENDOR_URL``, or none (intents are recorded, a worker elsewhere buys them).

    Agents: ``submit`` (``asubmit``), ``record``, ``submit_many``, ``receipt``, ``wait``.
    Operators: ``list``, ``counts``, ``health``, ``show``, ``workers``, ``damaged``, ``retry``,
    ``cancel``, ``retry_all``, ``cancel_all``, ``hold_vendor``, ``release_vendor``, tokens.
    Auditors: ``verify``, ``replay``, ``checkpoint``, ``consistency``, ``verify_log``.
    The worker: ``with pq.worker(): ...`` or ``run_worker(stop)``.

    Reads answer typed models (``IntentRow``, ``Health``, ``Trail``, ``WorkerRow``,
    ``Receipt``) whose ``model_dump(mode="json")`` is the documented JSON. Every error is a
    ``ProofQueueError`` with a one-line message.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        vendor: Vendor | AsyncVendor | None = None,
        sealer: Sealer | None = None,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] | None = None,
        worker_name: str | None = None,
    ) -> None:
        """Open the store of ``settings`` (default: ``Settings()``); a keyword replaces the
        part it names: ``vendor`` (a ``Vendor`` or an ``AsyncVendor``), ``sealer``,
        ``clock``, ``rand`` (the retry jitter's dice), ``worker_name``."""
        self.parts: Components = bootstrap(
            settings, vendor=vendor, sealer=sealer, clock=clock, rand=rand, worker_name=worker_name
        )
        self._submits = ThreadGroupCommit(
            partial(prepare_item, self.parts), partial(record_prepared, self.parts)
        )

    @classmethod
    def from_env(cls, **overrides: object) -> ProofQueue:
        """Settings from PROOFQUEUE_* environment variables; keywords override them
        (``ProofQueue.from_env(store="x.db")``). ``ConfigurationError`` names a wrong one."""
        return cls(Settings.from_env(None, **overrides))

    @property
    def settings(self) -> Settings:
        """The settings this queue was built from."""
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
        """Flush this process's breaker counts, close the vendor client and the store."""
        self.parts.close()

    def __enter__(self) -> ProofQueue:
        """``with ProofQueue(...) as pq:`` closes it when the block ends."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close (see ``close``)."""
        self.close()

    # -- the worker ---------------------------------------------------------------------

    def run_worker(self, stop: threading.Event, concurrency: int | None = None) -> None:
        """Run the process manager in this thread until ``stop`` is set: claim due attempts,
        call the vendor (``concurrency`` calls at most in flight), follow submitted jobs,
        write heartbeats. ``ConfigurationError`` without a vendor."""
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
        """Run the process manager in a background thread until the block ends (it yields
        the stop event); an error that ended the worker is raised when the block ends."""
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
