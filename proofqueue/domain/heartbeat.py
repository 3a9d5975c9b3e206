"""A worker's heartbeat: who it is, since when, and how many vendor calls it has in flight.
Workers are judged alive by the age of their last heartbeat, by the store's clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heartbeat:
    worker: str
    host: str
    pid: int
    started_at: float
    in_flight: int
    stopped: bool = False
