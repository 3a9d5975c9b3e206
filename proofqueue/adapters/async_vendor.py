"""``AsyncVendorBridge``: an ``AsyncVendor`` (coroutines) behind the blocking ``Vendor`` port.

The process manager calls its vendor from worker threads. An async vendor's coroutines run
on one private event loop, in a daemon thread started at the first call; each call waits
for its coroutine at most ``timeout_s`` (then cancels it). The bridge keeps the port's
promise that a call never raises for a vendor fault:

- a call that outlasts ``timeout_s`` answers ``Transient("timeout", ...)``;
- a coroutine that raises answers ``Transient("connection", ...)`` naming the exception;

both ``ambiguous`` for a create (the request may have reached the vendor: the job is looked
up before any new create) and not for reads and lookups (they buy nothing).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, TypeVar

from proofqueue.ports import (
    AsyncVendor,
    CreateOutcome,
    JobOrder,
    JobOutcome,
    LookupOutcome,
    Transient,
    Vendor,
)

if TYPE_CHECKING:
    from typing_extensions import TypeIs  # typing.TypeIs from Python 3.13

T = TypeVar("T")

# How long closing waits for the vendor's ``aclose`` and for the loop's thread to end.
CLOSE_S = 5.0


def is_async_vendor(vendor: Vendor | AsyncVendor) -> TypeIs[AsyncVendor]:
    """Whether ``vendor`` is an ``AsyncVendor`` (its ``create_job`` is a coroutine function)."""
    return inspect.iscoroutinefunction(getattr(vendor, "create_job", None))


class AsyncVendorBridge:
    """The ``Vendor`` port over an ``AsyncVendor``: its coroutines run on a private event
    loop thread, each bounded by ``timeout_s``. ``vendor`` is the async vendor itself."""

    def __init__(self, vendor: AsyncVendor, *, timeout_s: float) -> None:
        self.vendor = vendor
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.vendor.name

    def __repr__(self) -> str:
        return f"AsyncVendorBridge({self.vendor!r})"

    def create_job(self, order: JobOrder) -> CreateOutcome:
        return self._run(self.vendor.create_job(order), "create", ambiguous=True)

    def get_job(self, job_id: str) -> JobOutcome:
        return self._run(self.vendor.get_job(job_id), "job read", ambiguous=False)

    def find_jobs(self, request_id: str) -> LookupOutcome:
        return self._run(self.vendor.find_jobs(request_id), "lookup", ambiguous=False)

    def close(self) -> None:
        """Close the async vendor (its ``aclose`` or ``close`` coroutine, if it has one)
        on the loop, then stop the loop and its thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        closer = getattr(self.vendor, "aclose", None) or getattr(self.vendor, "close", None)
        try:
            if inspect.iscoroutinefunction(closer):
                asyncio.run_coroutine_threadsafe(closer(), loop).result(CLOSE_S)
            elif callable(closer):
                closer()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CLOSE_S)
        if not thread.is_alive():
            loop.close()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="proofqueue-async-vendor", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _run(
        self, call: Coroutine[object, object, T], what: str, *, ambiguous: bool
    ) -> T | Transient:
        future = asyncio.run_coroutine_threadsafe(call, self._started())
        try:
            return future.result(self.timeout_s)
        except FutureTimeout:
            future.cancel()
            detail = f"the vendor's {what} took longer than {self.timeout_s:g}s"
            return Transient("timeout", detail, ambiguous=ambiguous)
        except Exception as exc:
            text = " ".join(str(exc).split())[:200]
            detail = f"the vendor's {what} raised {type(exc).__name__}" + (
                f": {text}" if text else ""
            )
            return Transient("connection", detail, ambiguous=ambiguous)
