"""HTTP answers to outcomes of the vendor port, shared by the sync and async clients.

``create_outcome``, ``job_outcome``, ``lookup_outcome``: status, headers and body to an
outcome, checked against the request it answers (redirects, 409, 429 with ``Retry-After``,
408, 5xx and other 4xx as in the package docstring); ``transport_outcome``: an ``httpx``
exception to a ``Transient``, ambiguous when a create may have reached the vendor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime

import httpx

from proofqueue.adapters.vendor_http.details import clean_detail, error_detail, parse_retry_after
from proofqueue.adapters.vendor_http.payload import (
    _checked_id,
    _header,
    _is_object,
    _job_of,
    _json,
    _Malformed,
)
from proofqueue.ports import (
    Accepted,
    CreateOutcome,
    Found,
    Job,
    JobOutcome,
    LookupOutcome,
    LookupUnsupported,
    Permanent,
    Transient,
    TransientKind,
)

# Requests that failed before a byte reached the vendor: retrying cannot buy twice.
_NOT_SENT: tuple[type[httpx.RequestError], ...] = (
    httpx.ConnectTimeout,
    httpx.ConnectError,
    httpx.PoolTimeout,
    httpx.LocalProtocolError,
    httpx.UnsupportedProtocol,
)


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
