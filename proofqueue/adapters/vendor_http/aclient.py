"""``AsyncHttpVendor``: the ``AsyncVendor`` port over HTTP, asyncio.

The whole call, headers included, is bounded by ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Self

import httpx

from proofqueue.adapters.vendor_http.limits import (
    _LATE,
    MAX_ANSWER_BYTES,
    TOTAL_TIMEOUT_S,
    _Answer,
    _timeout,
)
from proofqueue.adapters.vendor_http.protocol import _Acp
from proofqueue.ports import CreateOutcome, JobOrder, JobOutcome, LookupOutcome


class AsyncHttpVendor:
    """The ``AsyncVendor`` port over HTTP (asyncio). Closes the client only if it built it."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        client: httpx.AsyncClient | None = None,
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
        self._client = client or httpx.AsyncClient(timeout=_timeout(connect_timeout, read_timeout))

    @property
    def name(self) -> str:
        return self._acp.name

    def __repr__(self) -> str:
        return f"AsyncHttpVendor({self.name!r})"

    async def create_job(self, order: JobOrder) -> CreateOutcome:
        got = await self._exchange(self._acp.create_request(self._client, order))
        return self._acp.judge_create(got, order)

    async def get_job(self, job_id: str) -> JobOutcome:
        got = await self._exchange(self._acp.job_request(self._client, job_id))
        return self._acp.judge_job(got, job_id)

    async def find_jobs(self, request_id: str) -> LookupOutcome:
        got = await self._exchange(self._acp.lookup_request(self._client, request_id))
        return self._acp.judge_lookup(got, request_id)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _exchange(self, request: httpx.Request) -> _Answer | httpx.RequestError:
        """Like the blocking client's, and the whole call, headers included, is bounded by
        ``asyncio.timeout``."""
        reader = self._acp.reader()
        status = 0
        try:
            async with asyncio.timeout(self._acp.total_timeout):
                response = await self._client.send(request, stream=True, follow_redirects=False)
                status = response.status_code
                try:
                    async for chunk in response.aiter_bytes():
                        if not reader.take(chunk):
                            break
                finally:
                    await response.aclose()
        except TimeoutError:
            return replace(_LATE, status=status)
        except httpx.RequestError as exc:
            return exc
        return reader.answer(response)
