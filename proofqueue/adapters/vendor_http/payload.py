"""Reading an answer's body: headers by name, JSON, vendor ids, phases, jobs.

Ids are 1-``JOB_ID_MAX`` characters of letters, digits and ``-_.:`` (an integer is kept as
its text); a phase is a short token; anything else raises ``_Malformed``, whose message says
what is wrong in our words, never repeating the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from proofqueue.ports import Job

JOB_ID_MAX = 128

_JOB_ID = re.compile(r"[A-Za-z0-9_.:-]+")
_PHASE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
_REQUEST_ID = re.compile(r"[!-~]{1,255}")  # the design's request_id: printable ASCII, no spaces


class _Malformed(Exception):
    """An answer of the wrong shape; its message says what is wrong, in our words."""


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
