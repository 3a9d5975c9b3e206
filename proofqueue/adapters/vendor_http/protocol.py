"""The ACP-shaped protocol, shared by both clients: requests built, answers judged.

``_Acp`` checks the base URL and the api key, builds the create, job and lookup requests (no
single timeout longer than the call's deadline), turns what was read into an outcome, and
scrubs the api key out of every detail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar, cast
from urllib.parse import quote

import httpx

from proofqueue.adapters.vendor_http.answers import (
    create_outcome,
    job_outcome,
    lookup_outcome,
    transport_outcome,
)
from proofqueue.adapters.vendor_http.details import clean_detail
from proofqueue.adapters.vendor_http.limits import _Answer, _Reader
from proofqueue.ports import (
    CreateOutcome,
    JobOrder,
    JobOutcome,
    LookupOutcome,
    LookupUnsupported,
    Permanent,
    Transient,
)

_O = TypeVar("_O")


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
