"""The one composition root: builds the log, the views, the sealer, the vendor client, the
breaker and the process manager from ``Settings``. Each part can be given by keyword
instead (tests give a fake vendor, a hand-moved clock, fixed dice). Nothing connects at
import time; the HTTP vendor client and PostgreSQL are imported only when configured.
"""

from __future__ import annotations

import os
import random
import socket
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import PersistenceError

from proofqueue.adapters.log import IntentLog
from proofqueue.adapters.sealing import AesSealer, new_key, parse_key
from proofqueue.adapters.store import is_postgres, opening, redact_store
from proofqueue.domain.errors import ConfigurationError
from proofqueue.ports import Sealer, Vendor
from proofqueue.process.decisions import Timing
from proofqueue.process.guard import BreakerGuard
from proofqueue.process.manager import ProcessManager
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

    def close(self) -> None:
        close = getattr(self.vendor, "close", None)
        if callable(close):
            close()
        self.log.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    vendor: Vendor | None = None,
    sealer: Sealer | None = None,
    clock: Callable[[], datetime] = utcnow,
    rand: Callable[[], float] | None = None,
    worker_name: str | None = None,
) -> Components:
    settings = settings or Settings()
    if sealer is None:
        key = settings.cipher_key
        sealer = AesSealer(parse_key(key.get_secret_value()) if key else None)
    log, db, projector = open_store(settings)
    name = worker_name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    if vendor is None:
        vendor = http_vendor(settings)
    guard = BreakerGuard(
        log,
        vendor.name if vendor is not None else "vendor",
        settings.breaker,
        clock,
        name,
        probe_lease=timedelta(seconds=settings.lease_s),
    )
    manager = None
    if vendor is not None:
        manager = ProcessManager(
            log=log,
            vendor=vendor,
            guard=guard,
            sealer=sealer,
            timing=Timing(
                retry=settings.retry,
                reconcile_after_s=settings.reconcile_after_s,
                poll_s=settings.poll_s,
                poll_cap_s=settings.poll_cap_s,
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
        vendor=vendor,
        guard=guard,
        manager=manager,
        worker_name=name,
    )


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
    )


def new_cipher_key() -> str:
    """A fresh key for PROOFQUEUE_CIPHER_KEY (base64 of 32 random bytes)."""
    return new_key()


def shown_store(store: str) -> str:
    """The store as it may be printed: never its password."""
    return redact_store(store)
