"""Kept so ``from proofqueue.entrypoints.http_api import create_app`` goes on working: the
HTTP API lives in the package ``proofqueue.entrypoints.http``; this re-exports its names."""

from proofqueue.entrypoints.http.answers import Problem
from proofqueue.entrypoints.http.app import Api, close_app, create_app
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.guard import Guard
from proofqueue.entrypoints.http.openapi import OPENAPI
from proofqueue.entrypoints.http.parsing import (
    MAX_BODY,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_OLDER_THAN_S,
    MAX_VERIFY_IDS,
    MAX_WAIT_S,
    read_json,
)
from proofqueue.entrypoints.http.pools import MAX_PENDING_ATTEMPTS

__all__ = [
    "MAX_BODY",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "MAX_OLDER_THAN_S",
    "MAX_PENDING_ATTEMPTS",
    "MAX_VERIFY_IDS",
    "MAX_WAIT_S",
    "OPENAPI",
    "Api",
    "Caller",
    "Guard",
    "Problem",
    "close_app",
    "create_app",
    "read_json",
]
