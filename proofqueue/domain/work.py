"""What a worker round may take up, as one read of the views saw it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Work:
    """Jobs to follow (``submitted``: request_id, job_id, the version the views hold),
    claimed attempts to watch for a lapsed lease (``claimed``: request_id, version) and
    due intents, oldest first (``due``: request_id), each within the worker's slots."""

    submitted: list[tuple[str, str, int]]
    claimed: list[tuple[str, int]]
    due: list[str]
