"""``ProofQueue``: the one object an agent runtime, the CLI and the HTTP API talk to.

A thin facade: each method validates its arguments and calls one use case
(``proofqueue.usecases``) on the parts built by ``proofqueue.bootstrap``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
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
from proofqueue.domain.errors import ConfigurationError
from proofqueue.facade.auditing import Auditing
from proofqueue.facade.observing import Observing
from proofqueue.facade.operating import Operating
from proofqueue.facade.reading import Reading
from proofqueue.facade.submitting import Submitting
from proofqueue.ports import Sealer, Vendor
from proofqueue.process.worker import Worker
from proofqueue.settings import Settings
from proofqueue.usecases.observe import Figures as Figures  # re-exported: the entry points
from proofqueue.usecases.observe import Timeline as Timeline  # read these (dashboards)


class ProofQueue(Submitting, Reading, Auditing, Operating, Observing):
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
