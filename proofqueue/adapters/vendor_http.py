"""The vendor port over HTTP, for the ACP-shaped protocol in the design (``POST /acp/jobs``...).

``HttpVendor`` (sync) and ``AsyncHttpVendor`` (asyncio) only move bytes; what an answer
*means* is decided once, by the pure functions below, shared by both:

- ``create_outcome``, ``job_outcome``, ``lookup_outcome``: an HTTP answer (status, headers,
  body) to an outcome of the port;
- ``transport_outcome``: an ``httpx`` exception to a ``Transient``; ``ambiguous`` says whether
  the request may have reached the vendor (see ``proofqueue.ports``).

Classes of answer, for a create:

    2xx with data.jobId     -> Accepted (replayed when 200 + ``Idempotent-Replayed: true``)
    2xx without it          -> Transient("http", ambiguous)   malformed answer
    409                     -> Transient("http", ambiguous)   same key still in flight
    429                     -> Transient("rate_limited")      with Retry-After
    408                     -> Transient("http")              the vendor never read the request
    5xx                     -> Transient("http", ambiguous)
    other 4xx, 1xx/3xx      -> Permanent

Reads (``get_job``, ``find_jobs``) change nothing at the vendor, so none of their outcomes is
ambiguous. The api key is sent in a header only: it is scrubbed from every ``detail`` and never
shown by ``repr``.
"""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar, cast
from urllib.parse import quote

import httpx

from proofqueue.ports import (
    Accepted,
    CreateOutcome,
    Found,
    Job,
    JobOrder,
    JobOutcome,
    LookupOutcome,
    LookupUnsupported,
    Permanent,
    Transient,
    TransientKind,
)

DETAIL_LIMIT = 300
_REDACTED = "[redacted]"
_O = TypeVar("_O")

# Requests that failed before a byte reached the vendor: retrying cannot buy twice.
_NOT_SENT: tuple[type[httpx.RequestError], ...] = (
    httpx.ConnectTimeout,
    httpx.ConnectError,
    httpx.PoolTimeout,
    httpx.LocalProtocolError,
    httpx.UnsupportedProtocol,
)


# ---- pure classification, shared by the sync and async clients ----


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def error_detail(status: int, body: bytes) -> str:
    """The vendor's own words for an error: ``error``/``message``/``detail`` or the raw text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        for key in ("error", "message", "detail"):
            value = payload.get(key)
            if value:
                text = value if isinstance(value, str) else json.dumps(value)
                break
    return _truncate(f"HTTP {status}: {text}" if text else f"HTTP {status}")


def create_outcome(status: int, headers: Mapping[str, str], body: bytes) -> CreateOutcome:
    """What the answer to ``POST /acp/jobs`` means."""
    if 200 <= status < 300:
        job_id = _job_id_of(_json(body))
        if job_id is None:
            return Transient(
                "http", f"HTTP {status}: malformed answer, no data.jobId", status, None, True
            )
        replayed = status != 201 and _header(headers, "Idempotent-Replayed").lower() == "true"
        return Accepted(job_id, replayed=replayed)
    if status == 409:
        return Transient("http", error_detail(status, body), status, None, ambiguous=True)
    return _failure(status, headers, body, ambiguous=True)


def job_outcome(status: int, headers: Mapping[str, str], body: bytes) -> JobOutcome:
    """What the answer to ``GET /acp/jobs/{id}`` means."""
    if 200 <= status < 300:
        payload = _json(body)
        data = payload.get("data") if isinstance(payload, Mapping) else None
        job = _job_of(data)
        if job is None:
            return Transient("http", f"HTTP {status}: malformed job in answer", status)
        return job
    return _failure(status, headers, body, ambiguous=False)


def lookup_outcome(
    status: int, headers: Mapping[str, str], body: bytes, request_id: str
) -> LookupOutcome:
    """What the answer to ``GET /acp/jobs?clientRequestId=...`` means.

    A vendor that ignores the filter would hand back other requests' jobs; any job that names
    another clientRequestId makes the whole answer untrustworthy, so it reads as unsupported.
    """
    if status in (400, 404, 405, 501):
        return LookupUnsupported(error_detail(status, body))
    if not 200 <= status < 300:
        return _failure(status, headers, body, ambiguous=False)
    payload = _json(body)
    items = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(items, list):
        return Transient("http", f"HTTP {status}: malformed lookup answer, no data list", status)
    jobs: list[Job] = []
    for item in items:
        job = _job_of(item)
        if job is None:
            return Transient("http", f"HTTP {status}: malformed job in lookup answer", status)
        if job.client_request_id is not None and job.client_request_id != request_id:
            return LookupUnsupported("vendor ignored the clientRequestId filter")
        jobs.append(job)
    return Found(tuple(jobs))


def transport_outcome(exc: httpx.RequestError, *, changes_state: bool) -> Transient:
    """A request that got no complete answer. ``changes_state``: it was a create."""
    kind: TransientKind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
    sent = not isinstance(exc, _NOT_SENT)
    detail = _truncate(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return Transient(kind, detail, None, None, ambiguous=changes_state and sent)


def _failure(
    status: int, headers: Mapping[str, str], body: bytes, *, ambiguous: bool
) -> Transient | Permanent:
    detail = error_detail(status, body)
    retry_after = parse_retry_after(_header(headers, "Retry-After") or None, datetime.now(UTC))
    if status == 429:
        return Transient("rate_limited", detail, status, retry_after, ambiguous=False)
    if status >= 500:
        return Transient("http", detail, status, retry_after, ambiguous=ambiguous)
    if status == 408:
        return Transient("http", detail, status, retry_after, ambiguous=False)
    return Permanent(status, detail)


def _header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, whatever the case of its name (``headers`` may be a plain dict)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _job_id_of(payload: Any) -> str | None:
    data = payload.get("data") if isinstance(payload, Mapping) else None
    job_id = data.get("jobId") if isinstance(data, Mapping) else None
    return _id_text(job_id)


def _job_of(data: Any) -> Job | None:
    if not isinstance(data, Mapping):
        return None
    job_id = _id_text(data.get("id"))
    phase = data.get("phase")
    deliverable = data.get("deliverable")
    request_id = data.get("clientRequestId")
    if job_id is None or not isinstance(phase, str):
        return None
    if deliverable is not None and not isinstance(deliverable, Mapping):
        return None
    deliverable_id = _id_text(deliverable.get("id")) if deliverable is not None else None
    if deliverable is not None and deliverable_id is None:
        return None
    if request_id is not None and not isinstance(request_id, str):
        return None
    return Job(job_id, phase, deliverable_id, request_id)


def _id_text(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _truncate(text: str) -> str:
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 3] + "..."


# ---- the wire: requests, shared by both clients ----


class _Acp:
    """Builds the protocol's requests and scrubs the api key from outcomes."""

    def __init__(self, base_url: str, api_key: str | None) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"vendor base_url must be an http(s) URL, got {url.scheme!r}")
        port = url.port or (443 if url.scheme == "https" else 80)
        host = f"[{url.host}]" if ":" in url.host else url.host
        self.name = f"{url.scheme}://{host}:{port}"
        self.jobs_url = f"{str(url.copy_with(query=None, fragment=None)).rstrip('/')}/acp/jobs"
        if api_key is not None and not (api_key.isascii() and api_key.isprintable()):
            raise ValueError("vendor api key must be printable ASCII")
        self._api_key = api_key or None

    def headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"accept": "application/json"}
        if self._api_key is not None:
            headers["x-api-key"] = self._api_key
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def create_request(
        self, client: httpx.Client | httpx.AsyncClient, order: JobOrder
    ) -> httpx.Request:
        body = {
            "providerWalletAddress": order.provider,
            "jobOfferingName": order.offering,
            "serviceRequirements": dict(order.params),
            "clientRequestId": order.request_id,
            "isAutomated": True,
        }
        return client.build_request(
            "POST", self.jobs_url, json=body, headers=self.headers(order.request_id)
        )

    def job_request(self, client: httpx.Client | httpx.AsyncClient, job_id: str) -> httpx.Request:
        url = f"{self.jobs_url}/{quote(job_id, safe='')}"
        return client.build_request("GET", url, headers=self.headers())

    def lookup_request(
        self, client: httpx.Client | httpx.AsyncClient, request_id: str
    ) -> httpx.Request:
        return client.build_request(
            "GET", self.jobs_url, params={"clientRequestId": request_id}, headers=self.headers()
        )

    def scrub(self, outcome: _O) -> _O:
        """The outcome with the api key cut out of its detail, should the vendor echo it."""
        key = self._api_key
        if key is None or not isinstance(outcome, Transient | Permanent | LookupUnsupported):
            return outcome
        if key not in outcome.detail:
            return outcome
        return cast(_O, replace(outcome, detail=outcome.detail.replace(key, _REDACTED)))


def _timeout(connect_timeout: float, read_timeout: float) -> httpx.Timeout:
    return httpx.Timeout(read_timeout, connect=connect_timeout)


# ---- the two clients ----


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
    ) -> None:
        self._acp = _Acp(base_url, api_key)
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=_timeout(connect_timeout, read_timeout))

    @property
    def name(self) -> str:
        return self._acp.name

    def __repr__(self) -> str:
        return f"HttpVendor({self.name!r})"

    def create_job(self, order: JobOrder) -> CreateOutcome:
        answer = self._send(self._acp.create_request(self._client, order))
        if isinstance(answer, httpx.RequestError):
            return self._acp.scrub(transport_outcome(answer, changes_state=True))
        return self._acp.scrub(create_outcome(answer.status_code, answer.headers, answer.content))

    def get_job(self, job_id: str) -> JobOutcome:
        answer = self._send(self._acp.job_request(self._client, job_id))
        if isinstance(answer, httpx.RequestError):
            return self._acp.scrub(transport_outcome(answer, changes_state=False))
        return self._acp.scrub(job_outcome(answer.status_code, answer.headers, answer.content))

    def find_jobs(self, request_id: str) -> LookupOutcome:
        answer = self._send(self._acp.lookup_request(self._client, request_id))
        if isinstance(answer, httpx.RequestError):
            return self._acp.scrub(transport_outcome(answer, changes_state=False))
        return self._acp.scrub(
            lookup_outcome(answer.status_code, answer.headers, answer.content, request_id)
        )

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

    def _send(self, request: httpx.Request) -> httpx.Response | httpx.RequestError:
        try:
            return self._client.send(request)
        except httpx.RequestError as exc:
            return exc


class AsyncHttpVendor:
    """The ``AsyncVendor`` port over HTTP. Closes the client only if it built it."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        client: httpx.AsyncClient | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
    ) -> None:
        self._acp = _Acp(base_url, api_key)
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=_timeout(connect_timeout, read_timeout))

    @property
    def name(self) -> str:
        return self._acp.name

    def __repr__(self) -> str:
        return f"AsyncHttpVendor({self.name!r})"

    async def create_job(self, order: JobOrder) -> CreateOutcome:
        answer = await self._send(self._acp.create_request(self._client, order))
        if isinstance(answer, httpx.RequestError):
            return self._acp.scrub(transport_outcome(answer, changes_state=True))
        return self._acp.scrub(create_outcome(answer.status_code, answer.headers, answer.content))

    async def get_job(self, job_id: str) -> JobOutcome:
        answer = await self._send(self._acp.job_request(self._client, job_id))
        if isinstance(answer, httpx.RequestError):
            return self._acp.scrub(transport_outcome(answer, changes_state=False))
        return self._acp.scrub(job_outcome(answer.status_code, answer.headers, answer.content))

    async def find_jobs(self, request_id: str) -> LookupOutcome:
        answer = await self._send(self._acp.lookup_request(self._client, request_id))
        if isinstance(answer, httpx.RequestError):
            return self._acp.scrub(transport_outcome(answer, changes_state=False))
        return self._acp.scrub(
            lookup_outcome(answer.status_code, answer.headers, answer.content, request_id)
        )

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

    async def _send(self, request: httpx.Request) -> httpx.Response | httpx.RequestError:
        try:
            return await self._client.send(request)
        except httpx.RequestError as exc:
            return exc
