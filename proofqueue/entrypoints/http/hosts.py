"""Which requests reach the HTTP API at all: the Host and Origin rules (pure, no server).

- ``Host`` must name one of the hosts the server was started for: the loopback names
  (``localhost``, ``127.0.0.1``, ``::1``), the address it is bound to (unless that is a
  wildcard such as ``0.0.0.0``) and any ``--allowed-host``. This defeats DNS rebinding: a
  page on ``evil.example`` whose name resolves to 127.0.0.1 still sends ``Host:
  evil.example``.
- ``Origin``, when a browser sends one, must be the server's own origin (the scheme, host
  and port of the request itself). A cross-site form or ``fetch`` (even a ``text/plain``
  POST, which needs no CORS preflight) carries the page's origin and is refused before any
  handler runs; so is ``Origin: null``. ``Sec-Fetch-Site: cross-site``/``same-site`` too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104  (names, not a bind)
DEFAULT_PORTS = {"http": 80, "https": 443}


def _bare(host: str) -> str:
    return host.strip().lower().removeprefix("[").removesuffix("]")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` serves this machine only."""
    name = _bare(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The host names a request's ``Host`` may carry (without port, lower case)."""
    names = set(LOOPBACK_NAMES)
    if _bare(bound) not in WILDCARDS:
        names.add(_bare(bound))
    names.update(_bare(name) for name in extra if _bare(name))
    return frozenset(names)


def split_host(value: str) -> tuple[str, int | None] | None:
    """``name[:port]`` or ``[v6]:port`` -> (name, port); None when malformed."""
    value = value.strip()
    if not value or any(c.isspace() or c in "/\\@?#" for c in value):
        return None
    try:
        parts = urlsplit(f"//{value}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port


def host_problem(host: str | None, allowed: frozenset[str]) -> str | None:
    """Why a request with this ``Host`` header is refused, or None."""
    if host is None:
        return "a Host header is required"
    split = split_host(host)
    if split is None or split[0] not in allowed:
        return f"Host {host[:100]!r} is not served here (see serve --allowed-host)"
    return None


def origin_problem(
    origin: str | None, fetch_site: str | None, scheme: str, host: str
) -> str | None:
    """Why a request from this ``Origin`` is refused (None when absent or our own)."""
    if fetch_site is not None and fetch_site.strip().lower() in ("cross-site", "same-site"):
        return "cross-site requests are refused"
    if origin is None:
        return None
    own = split_host(host)
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return "Origin is malformed"
    if own is None or parts.scheme.lower() != scheme or not parts.hostname:
        return f"Origin {origin[:100]!r} is not this server's origin"
    theirs = (parts.hostname.lower(), port or DEFAULT_PORTS.get(scheme))
    ours = (own[0], own[1] or DEFAULT_PORTS.get(scheme))
    if theirs != ours:
        return f"Origin {origin[:100]!r} is not this server's origin"
    return None
