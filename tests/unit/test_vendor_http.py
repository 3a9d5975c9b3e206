"""The HTTP vendor client against a fake vendor: a handler function behind httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import httpx
import pytest
from freezegun import freeze_time

from proofqueue.adapters.vendor_http import AsyncHttpVendor, HttpVendor, parse_retry_after
from proofqueue.ports import (
    Accepted,
    AsyncVendor,
    CreateOutcome,
    Found,
    Job,
    JobOrder,
    JobOutcome,
    LookupOutcome,
    LookupUnsupported,
    Permanent,
    Transient,
    Vendor,
)

BASE = "http://vendor.test"
KEY = "sk-live-0123456789abcdef"
ORDER = JobOrder("req-1", "0xProvider", "summarize", {"text": "hello", "n": 2})
Handler = Callable[[httpx.Request], httpx.Response]
T = TypeVar("T")


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    """A vendor that always gives the same answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str | bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


def raising(exc_type: type[httpx.TransportError], message: str = "boom") -> Handler:
    """A vendor that cannot be reached (or drops the line) the way ``exc_type`` says."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    return handler


class Calls(Protocol):
    """The three port calls against one fake vendor, sync or async."""

    def create(
        self, handler: Handler, order: JobOrder = ..., key: str | None = ...
    ) -> CreateOutcome: ...

    def get(self, handler: Handler, job_id: str = ..., key: str | None = ...) -> JobOutcome: ...

    def find(
        self, handler: Handler, request_id: str = ..., key: str | None = ...
    ) -> LookupOutcome: ...


class SyncCalls:
    def _with(self, handler: Handler, key: str | None, act: Callable[[HttpVendor], T]) -> T:
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            vendor: Vendor = HttpVendor(base_url=BASE, api_key=key, client=client)
            assert isinstance(vendor, HttpVendor)
            return act(vendor)

    def create(
        self, handler: Handler, order: JobOrder = ORDER, key: str | None = KEY
    ) -> CreateOutcome:
        return self._with(handler, key, lambda v: v.create_job(order))

    def get(self, handler: Handler, job_id: str = "job-1", key: str | None = KEY) -> JobOutcome:
        return self._with(handler, key, lambda v: v.get_job(job_id))

    def find(
        self, handler: Handler, request_id: str = "req-1", key: str | None = KEY
    ) -> LookupOutcome:
        return self._with(handler, key, lambda v: v.find_jobs(request_id))


class AsyncCalls:
    def _with(
        self, handler: Handler, key: str | None, act: Callable[[AsyncHttpVendor], Awaitable[T]]
    ) -> T:
        async def main() -> T:
            async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
                vendor: AsyncVendor = AsyncHttpVendor(base_url=BASE, api_key=key, client=client)
                assert isinstance(vendor, AsyncHttpVendor)
                return await act(vendor)

        return asyncio.run(main())

    def create(
        self, handler: Handler, order: JobOrder = ORDER, key: str | None = KEY
    ) -> CreateOutcome:
        return self._with(handler, key, lambda v: v.create_job(order))

    def get(self, handler: Handler, job_id: str = "job-1", key: str | None = KEY) -> JobOutcome:
        return self._with(handler, key, lambda v: v.get_job(job_id))

    def find(
        self, handler: Handler, request_id: str = "req-1", key: str | None = KEY
    ) -> LookupOutcome:
        return self._with(handler, key, lambda v: v.find_jobs(request_id))


@pytest.fixture(params=["sync", "async"])
def calls(request: pytest.FixtureRequest) -> Calls:
    """Every test below runs once with HttpVendor and once with AsyncHttpVendor."""
    return SyncCalls() if request.param == "sync" else AsyncCalls()


def job_json(job_id: str = "job-1", phase: str = "REQUEST", **extra: Any) -> dict[str, Any]:
    return {"id": job_id, "phase": phase, "deliverable": None, "memos": [], **extra}


TRANSPORT_FAULTS = [
    # (exception, kind, may the request have reached the vendor?)
    (httpx.ConnectTimeout, "timeout", False),
    (httpx.ConnectError, "connection", False),
    (httpx.PoolTimeout, "timeout", False),
    (httpx.ReadTimeout, "timeout", True),
    (httpx.WriteTimeout, "timeout", True),
    (httpx.ReadError, "connection", True),
    (httpx.WriteError, "connection", True),
    (httpx.RemoteProtocolError, "connection", True),
]


# ---- create ----


def test_create_posts_the_acp_body_with_key_and_idempotency_headers(calls: Calls) -> None:
    """A create is POST /acp/jobs with the ACP body, x-api-key and Idempotency-Key."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"data": {"jobId": "job-1"}})

    calls.create(handler)

    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/acp/jobs"
    assert request.headers["x-api-key"] == KEY
    assert request.headers["Idempotency-Key"] == "req-1"
    assert json.loads(request.content) == {
        "providerWalletAddress": "0xProvider",
        "jobOfferingName": "summarize",
        "serviceRequirements": {"text": "hello", "n": 2},
        "clientRequestId": "req-1",
        "isAutomated": True,
    }


def test_create_without_an_api_key_sends_no_key_header(calls: Calls) -> None:
    """No api key configured: no x-api-key header at all."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"data": {"jobId": "job-1"}})

    calls.create(handler, key=None)

    assert "x-api-key" not in seen[0].headers


def test_a_201_is_a_fresh_acceptance(calls: Calls) -> None:
    """201 with data.jobId: the vendor created the job now."""
    assert calls.create(answer(201, {"data": {"jobId": "job-7"}})) == Accepted("job-7")


def test_a_200_marked_replayed_is_an_idempotent_replay(calls: Calls) -> None:
    """200 with Idempotent-Replayed: true: the job was created by an earlier attempt."""
    outcome = calls.create(
        answer(200, {"data": {"jobId": "job-7"}}, {"Idempotent-Replayed": "true"})
    )
    assert outcome == Accepted("job-7", replayed=True)


def test_a_200_without_the_replay_header_is_not_a_replay(calls: Calls) -> None:
    """A plain 200 carries no replay claim."""
    assert calls.create(answer(200, {"data": {"jobId": "job-7"}})) == Accepted("job-7")


def test_a_numeric_job_id_is_kept_as_text(calls: Calls) -> None:
    """ACP job ids are numbers; the port speaks strings."""
    assert calls.create(answer(201, {"data": {"jobId": 42}})) == Accepted("42")


@pytest.mark.parametrize(
    "body", ["not json", {"data": {}}, {"data": {"jobId": ""}}, {"data": None}, [1, 2]]
)
def test_a_2xx_without_a_job_id_is_ambiguous(calls: Calls, body: Any) -> None:
    """A success answer we cannot read may still mean the job exists: reconcile."""
    outcome = calls.create(answer(201, body))
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous, outcome.status) == ("http", True, 201)
    assert "malformed" in outcome.detail


def test_a_409_means_the_same_key_is_in_flight_so_it_is_ambiguous(calls: Calls) -> None:
    """409: the first create with this key may still be making the job."""
    outcome = calls.create(answer(409, {"error": "in flight"}))
    assert outcome == Transient("http", "HTTP 409: in flight", 409, None, ambiguous=True)


def test_a_429_is_rate_limited_with_retry_after_seconds(calls: Calls) -> None:
    """429: not sent through; Retry-After in seconds is passed on."""
    outcome = calls.create(answer(429, {"error": "slow down"}, {"Retry-After": "7"}))
    assert outcome == Transient("rate_limited", "HTTP 429: slow down", 429, 7.0, ambiguous=False)


@freeze_time("2025-03-01 12:00:00")
def test_a_429_retry_after_http_date_is_seconds_from_now(calls: Calls) -> None:
    """Retry-After as an HTTP-date counts from the current time."""
    headers = {"Retry-After": "Sat, 01 Mar 2025 12:00:30 GMT"}
    outcome = calls.create(answer(429, {"error": "slow down"}, headers))
    assert isinstance(outcome, Transient)
    assert outcome.retry_after == 30.0


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_a_5xx_on_create_is_ambiguous_transient(calls: Calls, status: int) -> None:
    """A 5xx may come after the vendor created the job."""
    outcome = calls.create(answer(status, {"error": "oops"}))
    assert outcome == Transient("http", f"HTTP {status}: oops", status, None, ambiguous=True)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 418])
def test_a_4xx_on_create_is_permanent_with_the_vendor_message(calls: Calls, status: int) -> None:
    """4xx: retrying cannot help; the vendor's words are kept."""
    assert calls.create(answer(status, {"error": "nope"})) == Permanent(
        status, f"HTTP {status}: nope"
    )


def test_a_408_is_transient_and_not_ambiguous(calls: Calls) -> None:
    """408: the vendor gave up reading the request, so nothing was bought."""
    outcome = calls.create(answer(408, "too slow"))
    assert outcome == Transient("http", "HTTP 408: too slow", 408, None, ambiguous=False)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"message": "bad offering"}, "HTTP 404: bad offering"),
        ({"detail": "no such provider"}, "HTTP 404: no such provider"),
        ({"error": {"code": 7}}, 'HTTP 404: {"code": 7}'),
        ("plain text", "HTTP 404: plain text"),
        ("", "HTTP 404"),
    ],
)
def test_the_error_detail_comes_from_error_message_detail_or_text(
    calls: Calls, body: Any, detail: str
) -> None:
    """The vendor's message is found in its usual places."""
    assert calls.create(answer(404, body)) == Permanent(404, detail)


def test_a_long_error_detail_is_truncated(calls: Calls) -> None:
    """A vendor's essay is cut to about 300 characters."""
    outcome = calls.create(answer(400, {"error": "x" * 5000}))
    assert isinstance(outcome, Permanent)
    assert len(outcome.detail) == 300
    assert outcome.detail.endswith("...")


@pytest.mark.parametrize(("exc_type", "kind", "ambiguous"), TRANSPORT_FAULTS)
def test_transport_faults_on_create_are_ambiguous_only_once_sent(
    calls: Calls, exc_type: type[httpx.TransportError], kind: str, ambiguous: bool
) -> None:
    """Connect failures never reached the vendor; a read/write fault may have."""
    outcome = calls.create(raising(exc_type))
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous, outcome.status) == (kind, ambiguous, None)
    assert outcome.detail == f"{exc_type.__name__}: boom"


# ---- get_job ----


def test_get_job_reads_the_job_and_its_deliverable(calls: Calls) -> None:
    """200: id, phase, deliverable id and clientRequestId."""
    seen: list[httpx.Request] = []
    body = job_json(
        "job-1",
        "COMPLETED",
        deliverable={"id": "dlv-1", "type": "text", "value": "done"},
        clientRequestId="req-1",
    )

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": body})

    assert calls.get(handler) == Job("job-1", "COMPLETED", "dlv-1", "req-1")
    assert seen[0].method == "GET"
    assert str(seen[0].url) == f"{BASE}/acp/jobs/job-1"
    assert seen[0].headers["x-api-key"] == KEY
    assert "Idempotency-Key" not in seen[0].headers


def test_get_job_without_deliverable_or_request_id(calls: Calls) -> None:
    """A job in progress has no deliverable yet."""
    assert calls.get(answer(200, {"data": job_json()})) == Job("job-1", "REQUEST")


def test_get_job_quotes_the_job_id_into_the_path(calls: Calls) -> None:
    """A job id cannot escape its path segment."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": "no such job"})

    calls.get(handler, job_id="a/../b?c")
    assert seen[0].url.raw_path == b"/acp/jobs/a%2F..%2Fb%3Fc"


def test_get_job_of_an_unknown_job_is_permanent_404(calls: Calls) -> None:
    """404 on a read: the vendor does not know the job."""
    assert calls.get(answer(404, {"error": "no such job"})) == Permanent(
        404, "HTTP 404: no such job"
    )


@pytest.mark.parametrize(
    "body", [{"data": {"phase": "REQUEST"}}, {"data": {"id": "j", "phase": 3}}, "x", {}]
)
def test_get_job_with_a_malformed_job_is_transient(calls: Calls, body: Any) -> None:
    """An unreadable job is a vendor fault, worth another look later."""
    outcome = calls.get(answer(200, body))
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous) == ("http", False)


@pytest.mark.parametrize(
    ("handler", "kind", "status"),
    [
        (answer(500, {"error": "x"}), "http", 500),
        (answer(503, {"error": "x"}, {"Retry-After": "2"}), "http", 503),
        (answer(429, {"error": "x"}, {"Retry-After": "2"}), "rate_limited", 429),
        *[(raising(exc), kind, None) for exc, kind, _ in TRANSPORT_FAULTS],
    ],
)
def test_get_job_faults_are_transient_and_never_ambiguous(
    calls: Calls, handler: Handler, kind: str, status: int | None
) -> None:
    """A read changes nothing at the vendor, so its faults are never ambiguous."""
    outcome = calls.get(handler)
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.status, outcome.ambiguous) == (kind, status, False)


# ---- find_jobs ----


def test_find_jobs_queries_by_client_request_id(calls: Calls) -> None:
    """The lookup is GET /acp/jobs?clientRequestId=<request_id>."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": []})

    assert calls.find(handler, request_id="req 1/ü") == Found(())
    assert seen[0].method == "GET"
    assert seen[0].url.path == "/acp/jobs"
    assert seen[0].url.params["clientRequestId"] == "req 1/ü"
    assert seen[0].headers["x-api-key"] == KEY


def test_find_jobs_returns_the_vendors_jobs_for_the_request(calls: Calls) -> None:
    """200: every job the vendor holds for this request id."""
    body = {
        "data": [
            job_json("job-1", "COMPLETED", deliverable={"id": "d1"}, clientRequestId="req-1"),
            job_json("job-2", "REQUEST", clientRequestId="req-1"),
        ]
    }
    assert calls.find(answer(200, body)) == Found(
        (Job("job-1", "COMPLETED", "d1", "req-1"), Job("job-2", "REQUEST", None, "req-1"))
    )


def test_find_jobs_does_not_trust_jobs_that_do_not_name_a_request(calls: Calls) -> None:
    """Without clientRequestId on the job it may be anyone's: no lookup to rely on."""
    outcome = calls.find(answer(200, {"data": [job_json("job-3")]}))
    assert isinstance(outcome, LookupUnsupported)
    assert "naming no clientRequestId" in outcome.detail


def test_find_jobs_keeps_this_requests_jobs_from_an_answer_that_ignored_the_filter(
    calls: Calls,
) -> None:
    """Jobs of another request id are dropped; the ones naming this request are still its."""
    body = {
        "data": [
            job_json("job-1", clientRequestId="req-1"),
            job_json("job-9", clientRequestId="other"),
        ]
    }
    assert calls.find(answer(200, body)) == Found((Job("job-1", "REQUEST", None, "req-1"),))


@pytest.mark.parametrize("status", [404, 405, 501, 400])
def test_find_jobs_on_a_vendor_without_the_lookup_is_unsupported(calls: Calls, status: int) -> None:
    """No such endpoint, or a vendor that does not understand the query."""
    outcome = calls.find(answer(status, {"error": "unknown query parameter clientRequestId"}))
    assert outcome == LookupUnsupported(f"HTTP {status}: unknown query parameter clientRequestId")


def test_find_jobs_with_a_bad_key_is_permanent(calls: Calls) -> None:
    """401 on the lookup: the key is wrong, a retry cannot help."""
    assert calls.find(answer(401, {"error": "bad key"})) == Permanent(401, "HTTP 401: bad key")


@pytest.mark.parametrize("body", [{"data": {}}, {"data": [{"id": "j"}]}, "x"])
def test_find_jobs_with_a_malformed_answer_is_transient(calls: Calls, body: Any) -> None:
    """An unreadable lookup answer proves nothing either way."""
    outcome = calls.find(answer(200, body))
    assert isinstance(outcome, Transient)
    assert not outcome.ambiguous


@pytest.mark.parametrize(
    ("handler", "kind", "status"),
    [
        (answer(502, {"error": "x"}), "http", 502),
        (answer(429, {"error": "x"}, {"Retry-After": "1.5"}), "rate_limited", 429),
        *[(raising(exc), kind, None) for exc, kind, _ in TRANSPORT_FAULTS],
    ],
)
def test_find_jobs_faults_are_transient_and_never_ambiguous(
    calls: Calls, handler: Handler, kind: str, status: int | None
) -> None:
    """Lookup faults are retried like any read."""
    outcome = calls.find(handler)
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.status, outcome.ambiguous) == (kind, status, False)


# ---- the api key never leaks ----


def test_the_api_key_never_appears_in_details_reprs_or_logs(
    calls: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    """A vendor echoing the key, or an error quoting it, still shows no key."""
    caplog.set_level(logging.DEBUG)
    echo = answer(401, {"error": f"invalid key {KEY}"})
    outcomes: list[object] = [
        calls.create(echo),
        calls.get(echo),
        calls.find(echo),
        calls.create(raising(httpx.ConnectError, f"refused for {KEY}")),
        calls.get(answer(500, f"upstream said {KEY}")),
    ]
    for outcome in outcomes:
        assert KEY not in repr(outcome)
        assert "[redacted]" in repr(outcome)
    assert KEY not in caplog.text


def test_the_vendor_repr_names_the_vendor_but_not_the_key() -> None:
    """repr() and str() are safe to log."""
    with HttpVendor(base_url=BASE, api_key=KEY) as vendor:
        assert KEY not in repr(vendor)
        assert KEY not in str(vars(vendor))
        assert repr(vendor) == "HttpVendor('http://vendor.test:80')"


def test_an_api_key_that_is_not_printable_ascii_is_refused_without_echoing_it() -> None:
    """A bad key is a configuration error, raised at once, without the key in the message."""
    with pytest.raises(ValueError, match="printable ASCII") as caught:
        HttpVendor(base_url=BASE, api_key="sk-\nsecret")
    assert "secret" not in str(caught.value)


# ---- names, URLs, lifecycle ----


@pytest.mark.parametrize(
    ("base_url", "name"),
    [
        ("http://vendor.test", "http://vendor.test:80"),
        ("https://vendor.test/", "https://vendor.test:443"),
        ("http://127.0.0.1:8099/api/v1", "http://127.0.0.1:8099"),
        ("http://user:pw@[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_the_vendor_name_is_scheme_host_and_port(base_url: str, name: str) -> None:
    """The breaker key ignores paths and credentials."""
    with HttpVendor(base_url=base_url, api_key=None) as vendor:
        assert vendor.name == name


def test_a_base_url_path_prefixes_the_acp_routes() -> None:
    """A vendor mounted under a path is reached under it."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"data": {"jobId": "j"}})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        HttpVendor(base_url="http://v.test/api/", api_key=None, client=client).create_job(ORDER)
    assert str(seen[0].url) == "http://v.test/api/acp/jobs"


def test_a_base_url_that_is_not_http_is_refused() -> None:
    """ftp:// or a bare host is a configuration error, raised at once."""
    with pytest.raises(ValueError, match="http"):
        HttpVendor(base_url="ftp://vendor.test", api_key=None)


def test_close_closes_only_a_client_the_vendor_built() -> None:
    """An injected client belongs to the caller and stays open."""
    with httpx.Client(
        transport=httpx.MockTransport(answer(201, {"data": {"jobId": "j"}}))
    ) as client:
        HttpVendor(base_url=BASE, api_key=None, client=client).close()
        assert not client.is_closed
    own = HttpVendor(base_url=BASE, api_key=None)
    own.close()
    with pytest.raises(RuntimeError, match="closed"):
        own.create_job(ORDER)


def test_aclose_closes_only_a_client_the_vendor_built() -> None:
    """Same rule for the async vendor."""

    async def main() -> None:
        async with httpx.AsyncClient() as client:
            await AsyncHttpVendor(base_url=BASE, api_key=None, client=client).aclose()
            assert not client.is_closed
        async with AsyncHttpVendor(base_url=BASE, api_key=None) as own:
            pass
        with pytest.raises(RuntimeError, match="closed"):
            await own.create_job(ORDER)

    asyncio.run(main())


# ---- Retry-After parsing ----


NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Sat, 01 Mar 2025 12:01:00 GMT", 60.0),
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("inf", None),
    ],
)
def test_retry_after_reads_seconds_or_an_http_date(
    value: str | None, seconds: float | None
) -> None:
    """Retry-After is delta-seconds or an HTTP-date; anything else is ignored."""
    assert parse_retry_after(value, NOW) == seconds
