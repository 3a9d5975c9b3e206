"""Kept so ``from proofqueue.entrypoints.http_access import is_loopback`` goes on working:
the Host and Origin rules live in ``proofqueue.entrypoints.http.hosts``."""

from proofqueue.entrypoints.http.hosts import (
    DEFAULT_PORTS,
    LOOPBACK_NAMES,
    WILDCARDS,
    allowed_hosts,
    host_problem,
    is_loopback,
    origin_problem,
    split_host,
)

__all__ = [
    "DEFAULT_PORTS",
    "LOOPBACK_NAMES",
    "WILDCARDS",
    "allowed_hosts",
    "host_problem",
    "is_loopback",
    "origin_problem",
    "split_host",
]
