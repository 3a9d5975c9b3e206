"""``HttpVendor``: the ``Vendor`` port over HTTP, blocking.

The deadline is checked between chunks and each single read is capped at ``total_timeout``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import httpx

from proofqueue.adapters.vendor_http.limits import (
    MAX_ANSWER_BYTES,
    TOTAL_TIMEOUT_S,
    _Answer,
    _read,
    _timeout,
)
from proofqueue.adapters.vendor_http.protocol import _Acp
from proofqueue.ports import CreateOutcome, JobOrder, JobOutcome, LookupOutcome


class HttpVendor:
    """The ``Vendor`` port over HTTP (blocking). Closes the client only if it built it."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        client: httpx.Client | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        total_timeout: float = TOTAL_TIMEOUT_S,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._acp = _Acp(
            base_url,
            api_key,
            total_timeout=total_timeout,
            max_answer_bytes=max_answer_bytes,
            clock=clock,
        )
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=_timeout(connect_timeout, read_timeout))

    @property
    def name(self) -> str:
        return self._acp.name

    def __repr__(self) -> str:
        return f"HttpVendor({self.name!r})"

    def create_job(self, order: JobOrder) -> CreateOutcome:
        got = self._exchange(self._acp.create_request(self._client, order))
        return self._acp.judge_create(got, order)

    def get_job(self, job_id: str) -> JobOutcome:
        got = self._exchange(self._acp.job_request(self._client, job_id))
        return self._acp.judge_job(got, job_id)

    def find_jobs(self, request_id: str) -> LookupOutcome:
        got = self._exchange(self._acp.lookup_request(self._client, request_id))
        return self._acp.judge_lookup(got, request_id)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _exchange(self, request: httpx.Request) -> _Answer | httpx.RequestError:
        """Sends ``request`` (never following a redirect) and reads the answer, streamed, up
        to the size cap and the deadline, checked between chunks."""
        reader = self._acp.reader()
        try:
            response = self._client.send(request, stream=True, follow_redirects=False)
            try:
                _read(reader, response.iter_bytes())
            finally:
                response.close()
        except httpx.RequestError as exc:
            return exc
        return reader.answer(response)
