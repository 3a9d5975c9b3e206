"""The HTTP vendor client against answers that are too big or never end.

The size cap and the call deadline are checked with generator bodies behind
httpx.MockTransport and a fake clock; one loopback test drips bytes over a real socket.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from proofqueue.adapters.vendor_http import MAX_ANSWER_BYTES, AsyncHttpVendor, HttpVendor
from proofqueue.ports import Accepted, Permanent, Transient
from tests.unit.test_vendor_answers_hostile import (
    ORDER,
    AsyncSide,
    Chunks,
    Side,
    SyncSide,
    by_name,
)

CHUNK = b" " * 65_536  # one 64 KiB chunk, yielded again and again: the test holds no big body
HUGE = 300 * 1024 * 1024


def streaming(
    status: int, body: Chunks, headers: dict[str, str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """A vendor whose answer body is ``body``, streamed without a Content-Length."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=all_headers, stream=body)

    return handler


@pytest.fixture(params=["sync", "async"])
def side(request: pytest.FixtureRequest) -> Side:
    """Every test taking ``side`` runs once with HttpVendor and once with AsyncHttpVendor."""
    return SyncSide() if request.param == "sync" else AsyncSide()


def huge_body() -> Chunks:
    return Chunks(CHUNK, HUGE // len(CHUNK))


# ---- size ----


@pytest.mark.parametrize("call", ["create", "get", "find"])
def test_a_300_mb_answer_is_cut_at_the_cap_with_flat_memory(side: Side, call: str) -> None:
    """The client stops reading at the cap: bytes handed out and memory stay near 1 MiB."""
    body = huge_body()
    handler = streaming(200, body)
    tracemalloc.start()
    try:
        outcome = by_name(side, call, handler)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert body.yielded <= MAX_ANSWER_BYTES + len(CHUNK)
    assert peak < 8 * MAX_ANSWER_BYTES
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.status) == ("http", 200)
    assert outcome.ambiguous == (call == "create")
    assert "larger than" in outcome.detail


def test_an_answer_declaring_a_huge_length_is_cut_at_the_cap(side: Side) -> None:
    """A Content-Length over the cap does not make the client read that far."""
    body = huge_body()
    handler = streaming(201, body, {"Content-Length": str(HUGE)})
    outcome = side.create(handler)
    assert body.yielded <= MAX_ANSWER_BYTES + len(CHUNK)
    assert isinstance(outcome, Transient)
    assert outcome.ambiguous


def test_an_answer_of_exactly_the_cap_is_read_whole(side: Side) -> None:
    """The cap is inclusive: a JSON answer padded to exactly the cap is accepted."""
    text = json.dumps({"data": {"jobId": "job-1"}}).encode()
    padded = text + b" " * (MAX_ANSWER_BYTES - len(text))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=padded, headers={"Content-Type": "application/json"})

    assert side.create(handler) == Accepted("job-1")


@pytest.mark.parametrize(
    ("status", "expected"), [(500, Transient), (503, Transient), (404, Permanent)]
)
def test_an_oversized_error_answer_is_judged_by_its_status(
    side: Side, status: int, expected: type[Transient | Permanent]
) -> None:
    """An error page over the cap still says what its status says; its start is the detail."""
    body = huge_body()
    outcome = side.create(streaming(status, body))
    assert body.yielded <= MAX_ANSWER_BYTES + len(CHUNK)
    assert isinstance(outcome, expected)
    assert outcome.detail.startswith(f"HTTP {status}")


# ---- the call deadline ----


def test_a_vendor_dripping_bytes_is_cut_off_by_the_call_deadline(side: Side) -> None:
    """Each chunk comes within the read timeout, but the call as a whole ends on time."""
    side.options["total_timeout"] = 30.0

    def a_second_passes() -> None:
        side.clock.now += 1.0

    body = Chunks(b" ", None, a_second_passes)  # forever, one byte a second
    outcome = side.create(streaming(201, body))
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous) == ("timeout", True)
    assert "deadline" in outcome.detail
    assert body.yielded <= 32


@pytest.mark.parametrize("call", ["get", "find"])
def test_a_dripping_read_is_a_timeout_that_is_not_ambiguous(side: Side, call: str) -> None:
    """A read cut off by the deadline changed nothing at the vendor."""

    def a_second_passes() -> None:
        side.clock.now += 1.0

    body = Chunks(b" ", None, a_second_passes)
    outcome = by_name(side, call, streaming(200, body))
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous) == ("timeout", False)


# ---- one real socket ----


@contextmanager
def dripping_server(*, headers_too: bool) -> Iterator[str]:
    """A vendor on loopback that answers one byte every 20 ms, forever (or until hung up)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5.0)
    stop = threading.Event()

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(65_536)
            start = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
            if headers_too:
                conn.sendall(start + b"X-Slow: ")
                drip = b"a"
            else:
                conn.sendall(start + b"Content-Length: 100000000\r\n\r\n")
                drip = b" "
            try:
                while not stop.wait(0.02):
                    conn.sendall(drip)
            except OSError:
                return  # the client hung up: what the test wants

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(5.0)


def test_a_real_vendor_dripping_its_body_is_cut_off_by_the_call_deadline() -> None:
    """Over a real socket the blocking client gives up at the deadline, not the read timeout."""
    with (
        dripping_server(headers_too=False) as url,
        HttpVendor(base_url=url, api_key=None, read_timeout=5.0, total_timeout=0.5) as vendor,
    ):
        started = time.monotonic()
        outcome = vendor.create_job(ORDER)
        took = time.monotonic() - started
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous) == ("timeout", True)
    assert took < 3.0


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_real_vendor_dripping_is_cut_off_by_the_async_call_deadline(headers_too: bool) -> None:
    """The async client bounds the whole call, headers included."""

    async def main(url: str) -> tuple[object, float]:
        async with AsyncHttpVendor(
            base_url=url, api_key=None, read_timeout=5.0, total_timeout=0.5
        ) as vendor:
            started = time.monotonic()
            outcome = await vendor.create_job(ORDER)
            return outcome, time.monotonic() - started

    with dripping_server(headers_too=headers_too) as url:
        outcome, took = asyncio.run(main(url))
    assert isinstance(outcome, Transient)
    assert (outcome.kind, outcome.ambiguous) == ("timeout", True)
    assert took < 3.0
