"""The vendor port over HTTP, for the ACP-shaped protocol in the design (``POST /acp/jobs``...).

``HttpVendor`` (sync) and ``AsyncHttpVendor`` (asyncio) only move bytes; what an answer
*means* is decided once, by the pure functions below, shared by both:

- ``create_outcome``, ``job_outcome``, ``lookup_outcome``: an HTTP answer (status, headers,
  body) to an outcome of the port, checked against the request it answers;
- ``transport_outcome``: an ``httpx`` exception to a ``Transient``; ``ambiguous`` says whether
  the request may have reached the vendor (see ``proofqueue.ports``).

Classes of answer, for a create:

    2xx with a valid data.jobId  -> Accepted (replayed when 200 + ``Idempotent-Replayed: true``)
    2xx naming another request   -> Transient("http", ambiguous, foreign)
    2xx unreadable or a bad id   -> Transient("http", ambiguous)   the job may exist: reconcile
    3xx                          -> Transient("http", ambiguous)   redirects are never followed
    409                          -> Transient("http", ambiguous)   same key still in flight
    429                          -> Transient("rate_limited")      with Retry-After
    408                          -> Transient("http")              the vendor never read it
    5xx, 1xx, other codes        -> Transient("http", ambiguous)
    other 4xx                    -> Permanent

Reads (``get_job``, ``find_jobs``) change nothing at the vendor, so none of their outcomes is
ambiguous. A job read answered with another job is a ``Transient(foreign=True)``. A lookup
keeps only jobs naming this clientRequestId; jobs of other requests are dropped, and an answer
left with none but jobs of other requests or jobs naming no request is ``LookupUnsupported``
(such a vendor ignores the filter, so "none found" would be a guess).

Limits on what the vendor can make the client do:

- job and deliverable ids: 1-128 characters of letters, digits and ``-_.:`` (an integer is
  kept as its text); anything else is refused, never returned in an Accepted or a Job;
- a phase: a short token (``[A-Za-z][A-Za-z0-9_]{0,31}``), otherwise passed on as read;
- an answer body: at most ``MAX_ANSWER_BYTES``, streamed and cut there. A 2xx over the cap is
  a Transient; an error answer over it is judged by its status and its first bytes;
- a call: at most ``total_timeout`` seconds from sending to the last byte (default
  ``TOTAL_TIMEOUT_S``), so a vendor dripping bytes is cut off (a Transient "timeout",
  ambiguous for a create). The async client bounds the whole call; the blocking client
  checks the deadline between chunks and caps each single read at ``total_timeout``;
- ``Retry-After``: delta-seconds or an HTTP-date, clamped to [0, ``MAX_RETRY_AFTER_S``];
  nonsense is ignored;
- ``detail``: one line, no control, format or separator characters, at most ``DETAIL_LIMIT``
  characters. The api key is sent in a header only, cut out of every detail before it is
  shortened (so no part of it survives the cut) and never shown by ``repr``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import time
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
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
MAX_ANSWER_BYTES = 1024 * 1024
MAX_RETRY_AFTER_S = 3600.0
TOTAL_TIMEOUT_S = 30.0
JOB_ID_MAX = 128

_REDACTED = "[redacted]"
_O = TypeVar("_O")
_JOB_ID = re.compile(r"[A-Za-z0-9_.:-]+")
_PHASE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
_REQUEST_ID = re.compile(r"[!-~]{1,255}")  # the design's request_id: printable ASCII, no spaces
_DELTA_SECONDS = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RETRY_AFTER_MAX_CHARS = 64  # an HTTP-date is 29; anything much longer is not a Retry-After
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_NOT_PLAIN = re.compile(r"[^ -~]")  # anything but printable ASCII is looked at closely

# Requests that failed before a byte reached the vendor: retrying cannot buy twice.
_NOT_SENT: tuple[type[httpx.RequestError], ...] = (
    httpx.ConnectTimeout,
    httpx.ConnectError,
    httpx.PoolTimeout,
    httpx.LocalProtocolError,
    httpx.UnsupportedProtocol,
)


class _Malformed(Exception):
    """An answer of the wrong shape; its message says what is wrong, in our words."""


# ---- pure classification, shared by the sync and async clients ----


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None.

    The result is clamped to [0, ``MAX_RETRY_AFTER_S``]: a vendor cannot park the caller for
    ages. Values that are neither (``nan``, ``inf``, words, dates out of range) are ignored.
    """
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > _RETRY_AFTER_MAX_CHARS:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        return _clamp(float(text))  # this syntax never raises; 1e400 reads as inf
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return _clamp(seconds)


def _clamp(seconds: float) -> float:
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def clean_detail(text: str, secrets: Collection[str] = ()) -> str:
    """``text`` made safe for the trail and logs: secrets cut out, one line, short.

    Secrets are cut out before anything is shortened, so no prefix of one survives the cut;
    and again after control characters became spaces, in case they were hiding one."""
    text = _redact(text, secrets)[: DETAIL_LIMIT * 4]
    if _NOT_PLAIN.search(text):
        text = "".join(" " if _unsafe(ch) else ch for ch in text)
    text = _redact(" ".join(text.split()), secrets)
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 3] + "..."


def _unsafe(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _redact(text: str, secrets: Collection[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def error_detail(status: int, body: bytes, secrets: Collection[str] = ()) -> str:
    """The vendor's own words for an error: ``error``/``message``/``detail`` or the raw text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        payload = None
    if isinstance(payload, Mapping):
        for key in ("error", "message", "detail"):
            value = payload.get(key)
            if value:
                text = value if isinstance(value, str) else json.dumps(value)
                break
    return clean_detail(f"HTTP {status}: {text}" if text else f"HTTP {status}", secrets)


def create_outcome(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    request_id: str | None = None,
    secrets: Collection[str] = (),
) -> CreateOutcome:
    """What the answer to ``POST /acp/jobs`` for ``request_id`` means."""
    if 200 <= status < 300:
        try:
            payload = _json(headers, body)
            data = payload.get("data") if _is_object(payload) else None
            if not isinstance(data, Mapping):
                raise _Malformed("no data object")
            if data.get("jobId") is None:
                raise _Malformed("no data.jobId")
            job_id = _checked_id(data.get("jobId"), "data.jobId")
        except _Malformed as bad:
            detail = clean_detail(f"HTTP {status}: malformed answer: {bad}", secrets)
            return Transient("http", detail, status, None, ambiguous=True)
        named = data.get("clientRequestId")
        if request_id is not None and named is not None and named != request_id:
            detail = clean_detail(
                f"HTTP {status}: foreign answer, not taken as this request's job:"
                f" it names clientRequestId {named!r}",
                secrets,
            )
            return Transient("http", detail, status, None, ambiguous=True, foreign=True)
        replayed = status != 201 and _header(headers, "Idempotent-Replayed").lower() == "true"
        return Accepted(job_id, replayed=replayed)
    if 300 <= status < 400:
        return _redirect(status, headers, secrets, ambiguous=True)
    if status == 409:
        return Transient("http", error_detail(status, body, secrets), status, None, True)
    return _failure(status, headers, body, secrets, ambiguous=True)


def job_outcome(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    job_id: str | None = None,
    *,
    secrets: Collection[str] = (),
) -> JobOutcome:
    """What the answer to ``GET /acp/jobs/{job_id}`` means.

    The job is returned as read, whatever its phase (a short token) and even COMPLETED
    without a deliverable: what that means is the caller's decision."""
    if 200 <= status < 300:
        try:
            payload = _json(headers, body)
            job = _job_of(payload.get("data") if _is_object(payload) else None)
        except _Malformed as bad:
            detail = clean_detail(f"HTTP {status}: malformed job answer: {bad}", secrets)
            return Transient("http", detail, status)
        if job_id is not None and job.job_id != job_id:
            detail = clean_detail(
                f"HTTP {status}: foreign answer, not taken as this job: it is about job"
                f" {job.job_id}, not {job_id!r}",
                secrets,
            )
            return Transient("http", detail, status, foreign=True)
        return job
    if 300 <= status < 400:
        return _redirect(status, headers, secrets, ambiguous=False)
    return _failure(status, headers, body, secrets, ambiguous=False)


def lookup_outcome(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    request_id: str,
    *,
    secrets: Collection[str] = (),
) -> LookupOutcome:
    """What the answer to ``GET /acp/jobs?clientRequestId=...`` means.

    Only jobs that name ``request_id`` are this request's. Jobs naming another request are
    dropped. If none is left but the vendor returned others (other requests' jobs, or jobs
    naming no request at all), the vendor ignores the filter: "none found" from it would be a
    guess, so the answer reads as ``LookupUnsupported``, never as ``Found(())``."""
    if status in (400, 404, 405, 501):
        return LookupUnsupported(error_detail(status, body, secrets))
    if 300 <= status < 400:
        return _redirect(status, headers, secrets, ambiguous=False)
    if not 200 <= status < 300:
        return _failure(status, headers, body, secrets, ambiguous=False)
    ours: list[Job] = []
    foreign = unnamed = 0
    try:
        payload = _json(headers, body)
        items = payload.get("data") if _is_object(payload) else None
        if not isinstance(items, list):
            raise _Malformed("no data list")
        for item in items:
            named = item.get("clientRequestId") if isinstance(item, Mapping) else None
            if named is not None and named != request_id:
                foreign += 1
                continue
            job = _job_of(item)  # ours or unnamed: it must be readable either way
            if named is None:
                unnamed += 1
            else:
                ours.append(job)
    except _Malformed as bad:
        detail = clean_detail(f"HTTP {status}: malformed lookup answer: {bad}", secrets)
        return Transient("http", detail, status)
    if ours or not (foreign or unnamed):
        return Found(tuple(ours))
    if unnamed:
        return LookupUnsupported(
            f"vendor lookup returned {unnamed} job(s) naming no clientRequestId: they cannot"
            " be told to be this request's, so the lookup is not relied on"
        )
    return LookupUnsupported(
        f"vendor ignored the clientRequestId filter: {foreign} job(s) of other requests and"
        " none of this one"
    )


def transport_outcome(
    exc: httpx.RequestError, *, changes_state: bool, secrets: Collection[str] = ()
) -> Transient:
    """A request that got no complete answer. ``changes_state``: it was a create."""
    kind: TransientKind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
    sent = not isinstance(exc, _NOT_SENT)
    detail = clean_detail(
        f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, secrets
    )
    return Transient(kind, detail, None, None, ambiguous=changes_state and sent)


def _redirect(
    status: int, headers: Mapping[str, str], secrets: Collection[str], *, ambiguous: bool
) -> Transient:
    maybe = "; the job may have been made" if ambiguous else ""
    where = _header(headers, "Location")
    to = f" (to {where})" if where else ""
    detail = clean_detail(f"HTTP {status}: redirect not followed{maybe}{to}", secrets)
    return Transient("http", detail, status, None, ambiguous=ambiguous)


def _failure(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Collection[str],
    *,
    ambiguous: bool,
) -> Transient | Permanent:
    detail = error_detail(status, body, secrets)
    retry_after = parse_retry_after(_header(headers, "Retry-After") or None, datetime.now(UTC))
    if status == 429:
        return Transient("rate_limited", detail, status, retry_after, ambiguous=False)
    if status == 408:
        return Transient("http", detail, status, retry_after, ambiguous=False)
    if 400 <= status < 500:
        return Permanent(status, detail)
    # 5xx, and codes no class explains (1xx as a final answer, 600+): maybe after the job.
    return Transient("http", detail, status, retry_after, ambiguous=ambiguous)


def _header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, whatever the case of its name (``headers`` may be a plain dict)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""


def _json(headers: Mapping[str, str], body: bytes) -> Any:
    """The answer's JSON; ``_Malformed`` if it is not JSON (by its content type or its bytes)."""
    content_type = _header(headers, "Content-Type").split(";")[0].strip().lower()
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        raise _Malformed(f"answer is {content_type[:60]}, not JSON")
    if not body.strip():
        raise _Malformed("answer is empty")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # bad bytes, bad JSON, 100 000 nested lists
        raise _Malformed("answer is not valid JSON") from None


def _is_object(payload: Any) -> bool:
    return isinstance(payload, Mapping)


def _kind(value: Any) -> str:
    """What a JSON value is, in words (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _checked_id(value: Any, what: str) -> str:
    """A vendor id we can keep in a trail and a URL path, as text; else ``_Malformed``."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise _Malformed(f"{what} is {_kind(value)}, not a string")
    if not text:
        raise _Malformed(f"{what} is empty")
    if len(text) > JOB_ID_MAX:
        raise _Malformed(f"{what} is {len(text)} characters long (at most {JOB_ID_MAX})")
    if not _JOB_ID.fullmatch(text):
        bad = next(ch for ch in text if not _JOB_ID.fullmatch(ch))
        raise _Malformed(f"{what} holds U+{ord(bad):04X} (allowed: letters, digits, - _ . :)")
    return text


def _job_of(data: Any) -> Job:
    if not isinstance(data, Mapping):
        raise _Malformed(f"job is {_kind(data)}, not an object")
    job_id = _checked_id(data.get("id"), "job id")
    phase = data.get("phase")
    if not isinstance(phase, str):
        raise _Malformed(f"job phase is {_kind(phase)}, not a string")
    if not _PHASE.fullmatch(phase):
        raise _Malformed(
            f"job phase of {len(phase)} characters is not a short token"
            " (a letter, then up to 31 letters, digits or _)"
        )
    deliverable = data.get("deliverable")
    deliverable_id: str | None = None
    if deliverable is not None:
        if not isinstance(deliverable, Mapping):
            raise _Malformed(f"deliverable is {_kind(deliverable)}, not an object")
        deliverable_id = _checked_id(deliverable.get("id"), "deliverable id")
    request_id = data.get("clientRequestId")
    if request_id is not None and not (
        isinstance(request_id, str) and _REQUEST_ID.fullmatch(request_id)
    ):
        raise _Malformed("job clientRequestId is not a request id")
    return Job(job_id, phase, deliverable_id, request_id)


# ---- the wire: requests and answers, shared by both clients ----


@dataclass(frozen=True)
class _Answer:
    """What came back. ``cut``: reading stopped early, at the size cap or the deadline."""

    status: int  # 0: the deadline passed before the status line came
    headers: httpx.Headers
    body: bytes
    cut: str | None = None  # None, "size" or "deadline"


class _Reader:
    """Collects an answer's body up to a size cap and a deadline."""

    def __init__(self, limit: int, deadline: float, clock: Callable[[], float]) -> None:
        self.limit, self.deadline, self.clock = limit, deadline, clock
        self.parts: list[bytes] = []
        self.size = 0
        self.cut: str | None = None

    def take(self, chunk: bytes) -> bool:
        """Keeps ``chunk``; False when reading must stop."""
        if self.clock() > self.deadline:
            self.cut = "deadline"
            return False
        room = self.limit - self.size
        if len(chunk) > room:
            self.parts.append(chunk[:room])
            self.size = self.limit
            self.cut = "size"
            return False
        self.parts.append(chunk)
        self.size += len(chunk)
        return True

    def answer(self, response: httpx.Response) -> _Answer:
        return _Answer(response.status_code, response.headers, b"".join(self.parts), self.cut)


class _Acp:
    """Builds the protocol's requests and judges its answers, scrubbing the api key."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        total_timeout: float,
        max_answer_bytes: int,
        clock: Callable[[], float],
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"vendor base_url must be an http(s) URL, got {url.scheme!r}")
        if not total_timeout > 0:
            raise ValueError("total_timeout must be a positive number of seconds")
        if max_answer_bytes < 1:
            raise ValueError("max_answer_bytes must be at least 1")
        port = url.port or (443 if url.scheme == "https" else 80)
        host = f"[{url.host}]" if ":" in url.host else url.host
        self.name = f"{url.scheme}://{host}:{port}"
        self.jobs_url = f"{str(url.copy_with(query=None, fragment=None)).rstrip('/')}/acp/jobs"
        if api_key is not None and not (api_key.isascii() and api_key.isprintable()):
            raise ValueError("vendor api key must be printable ASCII")
        self._api_key = api_key or None
        self._secrets: tuple[str, ...] = (self._api_key,) if self._api_key else ()
        self.total_timeout = total_timeout
        self.max_answer_bytes = max_answer_bytes
        self.clock = clock

    def headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        # identity: a compressed answer could grow far past the size cap once decoded
        headers = {"accept": "application/json", "accept-encoding": "identity"}
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
        return self._bounded(
            client.build_request(
                "POST", self.jobs_url, json=body, headers=self.headers(order.request_id)
            )
        )

    def job_request(self, client: httpx.Client | httpx.AsyncClient, job_id: str) -> httpx.Request:
        url = f"{self.jobs_url}/{quote(job_id, safe='')}"
        return self._bounded(client.build_request("GET", url, headers=self.headers()))

    def lookup_request(
        self, client: httpx.Client | httpx.AsyncClient, request_id: str
    ) -> httpx.Request:
        return self._bounded(
            client.build_request(
                "GET", self.jobs_url, params={"clientRequestId": request_id}, headers=self.headers()
            )
        )

    def _bounded(self, request: httpx.Request) -> httpx.Request:
        """No single connect, read or write may outlast the whole call's deadline."""
        timeouts = request.extensions.get("timeout")
        if isinstance(timeouts, Mapping):
            total = self.total_timeout
            request.extensions["timeout"] = {
                phase: total if value is None else min(float(value), total)
                for phase, value in timeouts.items()
            }
        return request

    def reader(self) -> _Reader:
        return _Reader(self.max_answer_bytes, self.clock() + self.total_timeout, self.clock)

    def judge_create(self, got: _Answer | httpx.RequestError, order: JobOrder) -> CreateOutcome:
        if isinstance(got, httpx.RequestError):
            return self.scrub(transport_outcome(got, changes_state=True, secrets=self._secrets))
        early = self._cut_short(got, changes_state=True)
        if early is not None:
            return self.scrub(early)
        outcome = create_outcome(
            got.status, got.headers, got.body, request_id=order.request_id, secrets=self._secrets
        )
        return self.scrub(outcome)

    def judge_job(self, got: _Answer | httpx.RequestError, job_id: str) -> JobOutcome:
        if isinstance(got, httpx.RequestError):
            return self.scrub(transport_outcome(got, changes_state=False, secrets=self._secrets))
        early = self._cut_short(got, changes_state=False)
        if early is not None:
            return self.scrub(early)
        outcome = job_outcome(got.status, got.headers, got.body, job_id, secrets=self._secrets)
        return self.scrub(outcome)

    def judge_lookup(self, got: _Answer | httpx.RequestError, request_id: str) -> LookupOutcome:
        if isinstance(got, httpx.RequestError):
            return self.scrub(transport_outcome(got, changes_state=False, secrets=self._secrets))
        early = self._cut_short(got, changes_state=False)
        if early is not None:
            return self.scrub(early)
        outcome = lookup_outcome(
            got.status, got.headers, got.body, request_id, secrets=self._secrets
        )
        return self.scrub(outcome)

    def _cut_short(self, got: _Answer, *, changes_state: bool) -> Transient | None:
        """The outcome of an answer read only in part, if that part cannot be judged."""
        if got.cut == "deadline":
            detail = f"no complete answer within the call's deadline of {self.total_timeout:g} s"
            return Transient("timeout", detail, got.status or None, None, changes_state)
        if got.cut == "size" and 200 <= got.status < 300:
            detail = (
                f"HTTP {got.status}: answer larger than {self.max_answer_bytes} bytes;"
                " stopped reading"
            )
            return Transient("http", detail, got.status, None, changes_state)
        return None  # complete, or an error answer: its status and first bytes say enough

    def scrub(self, outcome: _O) -> _O:
        """The outcome with the api key cut out of its detail and the detail made one short
        line: the last word on every detail, whoever wrote it."""
        if not isinstance(outcome, Transient | Permanent | LookupUnsupported):
            return outcome
        detail = clean_detail(outcome.detail, self._secrets)
        if detail == outcome.detail:
            return outcome
        return cast(_O, replace(outcome, detail=detail))


def _timeout(connect_timeout: float, read_timeout: float) -> httpx.Timeout:
    return httpx.Timeout(read_timeout, connect=connect_timeout)


_LATE = _Answer(0, httpx.Headers(), b"", "deadline")


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


def _read(reader: _Reader, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        if not reader.take(chunk):
            return
