"""The vendor port over HTTP, for the ACP-shaped protocol in the design (``POST /acp/jobs``...).

``HttpVendor`` (sync) and ``AsyncHttpVendor`` (asyncio) only move bytes; what an answer
*means* is decided once, by the pure functions of ``answers``, shared by both:

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

The package: ``answers`` (outcomes), ``details`` (Retry-After, error details), ``payload``
(JSON, ids, phases), ``limits`` (size cap, deadline, reading), ``protocol`` (requests and
judging, shared by both clients), ``client`` (``HttpVendor``), ``aclient``
(``AsyncHttpVendor``).
"""

from __future__ import annotations

from proofqueue.adapters.vendor_http.aclient import AsyncHttpVendor
from proofqueue.adapters.vendor_http.answers import (
    create_outcome,
    job_outcome,
    lookup_outcome,
    transport_outcome,
)
from proofqueue.adapters.vendor_http.client import HttpVendor
from proofqueue.adapters.vendor_http.details import (
    DETAIL_LIMIT,
    MAX_RETRY_AFTER_S,
    clean_detail,
    error_detail,
    parse_retry_after,
)
from proofqueue.adapters.vendor_http.limits import MAX_ANSWER_BYTES, TOTAL_TIMEOUT_S
from proofqueue.adapters.vendor_http.payload import JOB_ID_MAX

__all__ = [
    "DETAIL_LIMIT",
    "JOB_ID_MAX",
    "MAX_ANSWER_BYTES",
    "MAX_RETRY_AFTER_S",
    "TOTAL_TIMEOUT_S",
    "AsyncHttpVendor",
    "HttpVendor",
    "clean_detail",
    "create_outcome",
    "error_detail",
    "job_outcome",
    "lookup_outcome",
    "parse_retry_after",
    "transport_outcome",
]
