"""The one composition root: builds the log, the views, the sealer, the vendor client, the
breaker and the process manager from ``Settings``. Each part can be given by keyword
instead (tests give a fake vendor, a hand-moved clock, fixed dice). Nothing connects at
import time; the HTTP vendor client and PostgreSQL are imported only when configured.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import PersistenceError

from proofqueue.adapters.async_vendor import AsyncVendorBridge, is_async_vendor
from proofqueue.adapters.log import IntentLog
from proofqueue.adapters.sealing import AesSealer, new_key, parse_key
from proofqueue.adapters.signing import ed25519_verify, load_signing_key, new_signing_key
from proofqueue.adapters.store import is_postgres, opening, redact_store
from proofqueue.domain.errors import ConfigurationError
from proofqueue.domain.note import NoteError, Verify
from proofqueue.ports import AsyncVendor, NoteSigner, Sealer, Vendor
from proofqueue.process.decisions import Timing
from proofqueue.process.guard import BreakerGuard
from proofqueue.process.manager import ProcessManager
from proofqueue.projections import breaker_state, shared
from proofqueue.projections.live import LiveViews
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import ViewDB
from proofqueue.settings import Settings


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Components:
    """Everything a ProofQueue works with, built once."""

    settings: Settings
    clock: Callable[[], datetime]
    log: IntentLog
    db: ViewDB
    projector: Projector
    views: LiveViews
    sealer: Sealer
    vendor: Vendor | None
    guard: BreakerGuard
    manager: ProcessManager | None
    worker_name: str
    # The transparency log's signing key (None: no checkpoints are signed here), and the
    # Ed25519 check its notes are verified with.
    signer: NoteSigner | None = None
    verify_signature: Verify = ed25519_verify

    def close(self) -> None:
        # This process's last calls count in the shared window; closing goes on even when
        # the store is gone (they are only counts).
        with contextlib.suppress(Exception):
            self.guard.flush()
        close = getattr(self.vendor, "close", None)
        if callable(close):
            close()
        self.log.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    vendor: Vendor | AsyncVendor | None = None,
    sealer: Sealer | None = None,
    clock: Callable[[], datetime] = utcnow,
    rand: Callable[[], float] | None = None,
    worker_name: str | None = None,
) -> Components:
    """Build every part from ``settings``; a keyword given replaces the part it names. An
    ``AsyncVendor`` is run behind the blocking port (``AsyncVendorBridge``: its coroutines
    on a private event loop thread, each call bounded by ``settings.call_s``)."""
    settings = settings or Settings()
    if sealer is None:
        key = settings.cipher_key
        sealer = AesSealer(parse_key(key.get_secret_value()) if key else None)
    log, db, projector = open_store(settings)
    if clock is utcnow and db.dialect == "postgres":
        clock = shared.StoreClock(db)  # every host schedules by the server's clock
    name = worker_name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    port: Vendor | None
    if vendor is None:
        port = http_vendor(settings)
    elif is_async_vendor(vendor):
        port = AsyncVendorBridge(vendor, timeout_s=settings.call_s)
    else:
        port = vendor
    guard = BreakerGuard(
        log,
        port.name if port is not None else "vendor",
        settings.breaker,
        clock,
        name,
        probe_lease=timedelta(seconds=settings.lease_s),
        db=db,
    )
    manager = None
    if port is not None:
        manager = ProcessManager(
            log=log,
            vendor=port,
            guard=guard,
            sealer=sealer,
            timing=Timing(
                retry=settings.retry,
                reconcile_after_s=settings.reconcile_after_s,
                poll_s=settings.poll_s,
                poll_cap_s=settings.poll_cap_s,
                call_s=settings.call_s,
            ),
            lease_s=settings.lease_s,
            clock=clock,
            worker=name,
            rand=rand or random.random,
        )
    return Components(
        settings=settings,
        clock=clock,
        log=log,
        db=db,
        projector=projector,
        views=LiveViews(db, projector),
        sealer=sealer,
        vendor=port,
        guard=guard,
        manager=manager,
        worker_name=name,
        signer=signing_key(settings),
    )


def signing_key(settings: Settings) -> NoteSigner | None:
    """The key of PROOFQUEUE_SIGNING_KEY, or None when unset."""
    if settings.signing_key is None:
        return None
    try:
        return load_signing_key(settings.signing_key.get_secret_value().strip())
    except NoteError as exc:
        raise ConfigurationError(
            f"PROOFQUEUE_SIGNING_KEY: {exc}; make one with `proofqueue signing-key --origin NAME`"
        ) from None


def open_store(settings: Settings) -> tuple[IntentLog, ViewDB, Projector]:
    """The log, the views and their projector on the store of ``settings``.

    The setting is checked before anything is opened (``adapters.store.opening``): a store
    that cannot be one is a ``ConfigurationError`` and nothing is created; with
    ``settings.create_store`` False a missing store is refused, not created. What the
    database itself still refuses while opening is one ``ConfigurationError`` line too."""
    with opening(settings.store, create=settings.create_store) as env:
        try:
            log = IntentLog(env=env)
        except (PersistenceError, sqlite3.Error, OSError) as exc:
            raise _cannot_open(settings.store, exc) from None
        try:
            datastore = log.factory.datastore  # type: ignore[attr-defined]
            db = ViewDB(datastore, "postgres" if is_postgres(settings.store) else "sqlite")
            projector = Projector(log.recorder, log.mapper, db)
            shared.ensure_tables(db)
            log.breaker_seed = lambda key: breaker_state.load(db, str(key))
        except (PersistenceError, sqlite3.Error, OSError) as exc:
            log.close()
            raise _cannot_open(settings.store, exc) from None
    return log, db, projector


def _cannot_open(store: str, exc: BaseException) -> ConfigurationError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return ConfigurationError(f"cannot open the store {redact_store(store)!r}: {reason}")


def http_vendor(settings: Settings) -> Vendor | None:
    """The ACP-shaped HTTP vendor of ``PROOFQUEUE_VENDOR_URL``, or None when unset."""
    if not settings.vendor_url:
        return None
    from proofqueue.adapters.vendor_http import HttpVendor

    key = settings.vendor_api_key
    return HttpVendor(
        base_url=settings.vendor_url,
        api_key=key.get_secret_value() if key else None,
        connect_timeout=settings.connect_timeout_s,
        read_timeout=settings.read_timeout_s,
        total_timeout=settings.call_s,
    )


def new_cipher_key() -> str:
    """A fresh key for PROOFQUEUE_CIPHER_KEY (base64 of 32 random bytes)."""
    return new_key()


def new_log_key(origin: str) -> tuple[str, str]:
    """A fresh Ed25519 key for the log named ``origin``: (private key, verifier key), in
    signed-note form."""
    return new_signing_key(origin)


def shown_store(store: str) -> str:
    """The store as it may be printed: never its password."""
    return redact_store(store)
