"""The HTTP vendor client against hostile or broken answers: foreign, malformed, oddly shaped.

Each case runs with HttpVendor and AsyncHttpVendor, behind an httpx.MockTransport handler.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import httpx
import pytest

from proofqueue.adapters.vendor_http import (
    DETAIL_LIMIT,
    MAX_RETRY_AFTER_S,
    AsyncHttpVendor,
    HttpVendor,
    parse_retry_after,
)
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
)

BASE = "http://vendor.test"
KEY = "sk-live-0123456789abcdef"
ORDER = JobOrder("req-1", "0xProvider", "summarize", {"text": "hello"})
Handler = Callable[[httpx.Request], httpx.Response]
T = TypeVar("T")


class FakeClock:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body yielded chunk by chunk (sync or async); counts the bytes handed out."""

    def __init__(
        self, chunk: bytes, count: int | None, before_each: Callable[[], None] = lambda: None
    ) -> None:
        self.chunk, self.count, self.before_each = chunk, count, before_each
        self.yielded = 0

    def _next(self) -> Iterator[bytes]:
        n = 0
        while self.count is None or n < self.count:
            self.before_each()
            self.yielded += len(self.chunk)
            n += 1
            yield self.chunk

    def __iter__(self) -> Iterator[bytes]:
        yield from self._next()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._next():
            yield chunk


class Side(Protocol):
    """The three port calls against one fake vendor, sync or async."""

    clock: FakeClock
    options: dict[str, Any]

    def create(self, handler: Handler, order: JobOrder = ...) -> CreateOutcome: ...

    def get(self, handler: Handler, job_id: str = ...) -> JobOutcome: ...

    def find(self, handler: Handler, request_id: str = ...) -> LookupOutcome: ...


@dataclass
class SyncSide:
    clock: FakeClock = field(default_factory=FakeClock)
    options: dict[str, Any] = field(default_factory=dict)
    follow_redirects: bool = True  # a client that would follow: the vendor must not

    def _with(self, handler: Handler, act: Callable[[HttpVendor], T]) -> T:
        transport = httpx.MockTransport(handler)
        with httpx.Client(transport=transport, follow_redirects=self.follow_redirects) as client:
            vendor = HttpVendor(
                base_url=BASE, api_key=KEY, client=client, clock=self.clock, **self.options
            )
            return act(vendor)

    def create(self, handler: Handler, order: JobOrder = ORDER) -> CreateOutcome:
        return self._with(handler, lambda v: v.create_job(order))

    def get(self, handler: Handler, job_id: str = "job-1") -> JobOutcome:
        return self._with(handler, lambda v: v.get_job(job_id))

    def find(self, handler: Handler, request_id: str = "req-1") -> LookupOutcome:
        return self._with(handler, lambda v: v.find_jobs(request_id))


@dataclass
class AsyncSide:
    clock: FakeClock = field(default_factory=FakeClock)
    options: dict[str, Any] = field(default_factory=dict)
    follow_redirects: bool = True

    def _with(self, handler: Handler, act: Callable[[AsyncHttpVendor], Awaitable[T]]) -> T:
        async def main() -> T:
            transport = httpx.MockTransport(handler)
            async with httpx.AsyncClient(
                transport=transport, follow_redirects=self.follow_redirects
            ) as client:
                vendor = AsyncHttpVendor(
                    base_url=BASE, api_key=KEY, client=client, clock=self.clock, **self.options
                )
                return await act(vendor)

        return asyncio.run(main())

    def create(self, handler: Handler, order: JobOrder = ORDER) -> CreateOutcome:
        return self._with(handler, lambda v: v.create_job(order))

    def get(self, handler: Handler, job_id: str = "job-1") -> JobOutcome:
        return self._with(handler, lambda v: v.get_job(job_id))

    def find(self, handler: Handler, request_id: str = "req-1") -> LookupOutcome:
        return self._with(handler, lambda v: v.find_jobs(request_id))


@pytest.fixture(params=["sync", "async"])
def side(request: pytest.FixtureRequest) -> Side:
    """Every test taking ``side`` runs once with HttpVendor and once with AsyncHttpVendor."""
    return SyncSide() if request.param == "sync" else AsyncSide()


def by_name(side: Side, call: str, handler: Handler) -> CreateOutcome | JobOutcome | LookupOutcome:
    """One of the three calls, named by a test parameter."""
    if call == "create":
        return side.create(handler)
    return side.get(handler) if call == "get" else side.find(handler)


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    """A vendor that always gives the same answer (JSON unless body is text or bytes)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str | bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


def job_json(job_id: Any = "job-1", phase: Any = "REQUEST", **extra: Any) -> dict[str, Any]:
    return {"id": job_id, "phase": phase, "deliverable": None, "memos": [], **extra}


def is_one_clean_line(text: str) -> bool:
    """No control, format or separator character; nothing but plain spaces as whitespace."""
    return all(
        not unicodedata.category(ch).startswith(("C", "Zl", "Zp"))
        and (ch == " " or not ch.isspace())
        for ch in text
    )


BAD_IDS: list[Any] = [
    "j" * 100_000,
    "j" * 129,
    "job\n1",
    "job\u20281",
    "job\x001",
    "job\x1b[31m",
    "job 1",
    "job/1",
    "jöb",
    "",
    10**200,
    True,
    1.5,
    {"id": "x"},
]


# ---- answers checked against the request they answer ----


def test_a_create_answer_naming_another_request_is_foreign_and_ambiguous(side: Side) -> None:
    """A create answer about another clientRequestId is not our job, but ours may exist."""
    outcome = side.create(answer(201, {"data": {"jobId": "job-9", "clientRequestId": "req-2"}}))
    assert isinstance(outcome, Transient)
    assert (outcome.ambiguous, outcome.foreign, outcome.status) == (True, True, 201)
    assert "req-2" in outcome.detail


def test_a_create_answer_naming_this_request_is_accepted(side: Side) -> None:
    """The same create answer naming our own clientRequestId is an acceptance."""
    body = {"data": {"jobId": "job-9", "clientRequestId": "req-1"}}
    assert side.create(answer(201, body)) == Accepted("job-9")


def test_a_job_read_answering_about_another_job_is_a_foreign_transient(side: Side) -> None:
    """GET /acp/jobs/job-1 answered with job-2 is not taken as job-1."""
    outcome = side.get(answer(200, {"data": job_json("job-2", "COMPLETED")}))
    assert isinstance(outcome, Transient)
    assert (outcome.foreign, outcome.ambiguous, outcome.status) == (True, False, 200)
    assert "job-2" in outcome.detail
    assert "job-1" in outcome.detail


def test_a_job_read_matches_a_numeric_id_to_its_text(side: Side) -> None:
    """The vendor's number 42 is the job the port calls "42"."""
    assert side.get(answer(200, {"data": job_json(42)}), job_id="42") == Job("42", "REQUEST")


def test_a_lookup_drops_jobs_of_other_requests(side: Side) -> None:
    """Jobs naming another clientRequestId are dropped; this request's are kept."""
    body = {
        "data": [
            job_json("job-9", clientRequestId="req-2"),
            job_json("job-1", clientRequestId="req-1"),
            job_json("job-8", clientRequestId=7),
        ]
    }
    assert side.find(answer(200, body)) == Found((Job("job-1", "REQUEST", None, "req-1"),))


def test_a_lookup_of_only_other_requests_jobs_is_no_usable_lookup(side: Side) -> None:
    """A vendor that ignored the filter proves nothing about this request: no lookup."""
    body = {"data": [job_json("job-9", clientRequestId="req-2")]}
    outcome = side.find(answer(200, body))
    assert isinstance(outcome, LookupUnsupported)
    assert "ignored the clientRequestId filter" in outcome.detail


def test_a_lookup_of_jobs_naming_no_request_is_no_usable_lookup(side: Side) -> None:
    """Jobs without a clientRequestId may be anyone's: never taken as this request's job."""
    outcome = side.find(answer(200, {"data": [job_json("job-3"), job_json("job-4")]}))
    assert isinstance(outcome, LookupUnsupported)
    assert "no clientRequestId" in outcome.detail


# ---- job ids ----


@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda v: repr(v)[:20])
def test_a_create_answer_with_a_bad_job_id_is_an_ambiguous_transient(side: Side, bad: Any) -> None:
    """The vendor may have made a job whose id we cannot keep: reconcile, never accept."""
    outcome = side.create(answer(201, {"data": {"jobId": bad}}))
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous, outcome.status) == ("http", True, 201)
    assert "jobId" in outcome.detail
    assert len(outcome.detail) <= DETAIL_LIMIT
    assert is_one_clean_line(outcome.detail)


@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda v: repr(v)[:20])
def test_a_job_read_with_a_bad_job_id_is_a_transient(side: Side, bad: Any) -> None:
    """A read with an unusable job id is a vendor fault: not a Job, not ambiguous."""
    outcome = side.get(answer(200, {"data": job_json(bad)}))
    assert isinstance(outcome, Transient)
    assert (outcome.ambiguous, outcome.status) == (False, 200)
    assert "job id" in outcome.detail
    assert len(outcome.detail) <= DETAIL_LIMIT
    assert is_one_clean_line(outcome.detail)


@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda v: repr(v)[:20])
def test_a_lookup_with_a_bad_job_id_for_this_request_is_a_transient(side: Side, bad: Any) -> None:
    """This request's job exists but cannot be named: the lookup proves nothing yet."""
    outcome = side.find(answer(200, {"data": [job_json(bad, clientRequestId="req-1")]}))
    assert isinstance(outcome, Transient)
    assert not outcome.ambiguous
    assert "job id" in outcome.detail


@pytest.mark.parametrize("good", ["a", "A-b_c.d:9", "j" * 128, 0, 12345678901234567890])
def test_job_ids_of_the_safe_set_up_to_128_characters_are_kept(side: Side, good: Any) -> None:
    """Letters, digits and - _ . : up to 128 characters (or an integer) are kept as text."""
    assert side.create(answer(201, {"data": {"jobId": good}})) == Accepted(str(good))


def test_a_bad_deliverable_id_is_not_recorded(side: Side) -> None:
    """A deliverable id goes into receipts: it passes the same check as a job id."""
    body = {"data": job_json("job-1", "COMPLETED", deliverable={"id": "d\n" * 10})}
    outcome = side.get(answer(200, body))
    assert isinstance(outcome, Transient)
    assert "deliverable id" in outcome.detail


# ---- status classes ----


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_3xx_to_a_create_is_ambiguous_and_not_followed(side: Side, status: int) -> None:
    """A redirect after a create (a 303 once the job was made) may hide a job: reconcile."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, headers={"Location": "/acp/jobs/job-1"})

    outcome = side.create(handler)
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous, outcome.status) == ("http", True, status)
    assert "redirect" in outcome.detail
    assert len(seen) == 1


def test_a_3xx_to_a_read_is_transient_and_not_followed(side: Side) -> None:
    """Reads are not redirected either; a redirect is a vendor fault, retried later."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://elsewhere.test/x"})

    for outcome in (side.get(handler), side.find(handler)):
        assert isinstance(outcome, Transient)
        assert (outcome.ambiguous, outcome.status) == (False, 302)
    assert len(seen) == 2


@pytest.mark.parametrize("status", [600, 999])
def test_a_status_outside_the_http_classes_on_a_create_is_ambiguous(
    side: Side, status: int
) -> None:
    """An answer we cannot classify may follow a made job: reconcile, never fail."""
    outcome = side.create(answer(status, {"error": "?"}))
    assert isinstance(outcome, Transient)
    assert outcome.ambiguous


# ---- phases ----


def test_a_completed_job_without_deliverable_is_returned_as_read(side: Side) -> None:
    """The client reports what the vendor said; the caller decides what it means."""
    assert side.get(answer(200, {"data": job_json("job-1", "COMPLETED")})) == Job(
        "job-1", "COMPLETED"
    )


def test_an_unknown_phase_token_is_returned_as_read(side: Side) -> None:
    """A new phase name is passed on as it is: a short token."""
    assert side.get(answer(200, {"data": job_json("job-1", "DISPUTED")})) == Job(
        "job-1", "DISPUTED"
    )


@pytest.mark.parametrize(
    "phase", ["COMPLETED\n", "X" * 33, "", "DONE; rm", "in progress", "\u2028", 5, None]
)
def test_a_phase_that_is_not_a_short_token_is_a_transient(side: Side, phase: Any) -> None:
    """A phase must be 1-32 letters, digits or underscores, starting with a letter."""
    outcome = side.get(answer(200, {"data": job_json("job-1", phase)}))
    assert isinstance(outcome, Transient)
    assert "phase" in outcome.detail
    assert is_one_clean_line(outcome.detail)


# ---- malformed answers ----


MALFORMED: list[tuple[bytes, str | None]] = [
    (b"not json", None),
    (b"{", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b"[" * 100_000, "application/json"),
    (b"9" * 5000, "application/json"),
    (b'{"data": 1}', "application/json"),
    (b'{"data": [1]}', "application/json"),
    (b"", None),
    (json.dumps({"data": {"jobId": "j", "id": "job-1", "phase": "REQUEST"}}).encode(), "text/html"),
]


@pytest.mark.parametrize(("body", "content_type"), MALFORMED)
@pytest.mark.parametrize("call", ["create", "get", "find"])
def test_malformed_answers_are_clear_transients_never_exceptions(
    side: Side, call: str, body: bytes, content_type: str | None
) -> None:
    """Bad JSON, a wrong shape or a wrong content type is a Transient with a detail."""
    headers = {"Content-Type": content_type} if content_type else None
    handler = answer(200, body, headers)
    outcome = by_name(side, call, handler)
    assert isinstance(outcome, Transient)
    assert outcome.ambiguous == (call == "create")
    assert outcome.detail.startswith("HTTP 200: malformed")
    assert len(outcome.detail) <= DETAIL_LIMIT
    assert is_one_clean_line(outcome.detail)


def test_a_4xx_with_a_wrong_content_type_is_still_permanent(side: Side) -> None:
    """A 4xx refuses the request whatever its body looks like."""
    outcome = side.create(answer(422, b"<html>\n<b>no</b>\n</html>", {"Content-Type": "text/html"}))
    assert isinstance(outcome, Permanent)
    assert outcome.status == 422


# ---- error details ----


@pytest.mark.parametrize(
    "text",
    [
        "line one\nline two\r\nthree",
        "para\u2028graph\u2029end\x85next",
        "\x1b[31mred\x1b[0m \x00 \x07 bell",
        "right-to-left \u202egnp.exe\u202c and \ufeff bom \u200b zw",
        "lone surrogate \ud800 here",
        "x\n" * 50_000,
    ],
)
def test_error_details_are_one_short_line_without_control_characters(side: Side, text: str) -> None:
    """Details reach the trail and logs: one line, no controls or separators, cut short."""
    as_json = json.dumps({"error": text}).encode()  # ensure_ascii: lone surrogates survive
    for body in (as_json, text.encode("utf-8", "surrogatepass")):
        outcome = side.create(answer(400, body, {"Content-Type": "application/json"}))
        assert isinstance(outcome, Permanent)
        assert len(outcome.detail) <= DETAIL_LIMIT
        assert is_one_clean_line(outcome.detail), ascii(outcome.detail)


def test_a_key_cut_by_the_detail_limit_leaves_no_part_of_it(side: Side) -> None:
    """The api key is removed before the detail is cut, so no prefix of it survives."""
    outcome = side.create(answer(400, {"error": "x" * 280 + KEY}))
    assert isinstance(outcome, Permanent)
    assert KEY[:6] not in outcome.detail


def test_a_redirect_location_quoting_the_key_is_scrubbed(side: Side) -> None:
    """The Location header is the vendor's text too: the key is cut out of it."""
    handler = answer(303, b"", {"Location": f"/login?key={KEY}"})
    outcome = side.create(handler)
    assert isinstance(outcome, Transient)
    assert KEY not in outcome.detail
    assert "[redacted]" in outcome.detail


# ---- Retry-After ----


NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1e12", MAX_RETRY_AFTER_S),
        ("1e400", MAX_RETRY_AFTER_S),
        ("9" * 60, MAX_RETRY_AFTER_S),
        ("9" * 5000, None),  # too long to be a Retry-After at all
        ("3601", MAX_RETRY_AFTER_S),
        ("3599", 3599.0),
        ("-1e12", 0.0),
        ("nan", None),
        ("NaN", None),
        ("-inf", None),
        ("Infinity", None),
        ("1_000", None),
        ("١٢", None),  # Arabic-Indic digits are not delta-seconds
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_S),
        ("Mon, 01 Jan 0001 00:00:00 +0100", 0.0),
        ("Mon, 01 Jan 0001 00:00:00 -2359", 0.0),
        ("Sat, 01 Mar 99999 12:00:00 GMT", None),
        ("x" * 100_000, None),
    ],
)
def test_retry_after_is_clamped_to_the_maximum_or_ignored(
    value: str, seconds: float | None
) -> None:
    """Huge, negative or nonsense Retry-After values never overflow or block for ages."""
    assert parse_retry_after(value, NOW) == seconds


def test_a_429_with_a_huge_retry_after_waits_at_most_the_maximum(side: Side) -> None:
    """The clamp applies to what the caller receives."""
    outcome = side.create(answer(429, {"error": "slow"}, {"Retry-After": "1e12"}))
    assert isinstance(outcome, Transient)
    assert outcome.retry_after == MAX_RETRY_AFTER_S
