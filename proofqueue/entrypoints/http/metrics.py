"""``GET /metrics``: Prometheus text (exposition format 0.0.4), computed from the views at
scrape time (counts the projection keeps, one row per vendor, the workers' heartbeats).

Behind a token like every route that reads the store: operators and auditors (give
Prometheus an auditor token: it reads everything and changes nothing). The names are
design.md's:

    proofqueue_intents{status}                       gauge   intents in each status
    proofqueue_backlog_oldest_age_seconds            gauge   oldest QUEUED/RETRYING (0: none)
    proofqueue_breaker_state{vendor,state}           gauge   1 for the vendor's state, else 0
    proofqueue_breaker_failure_ratio{vendor}         gauge   failures / calls, live window
    proofqueue_breaker_calls_in_window{vendor}       gauge   calls in the live window
    proofqueue_breaker_transitions_total{vendor,to}  counter breaker moves, by state moved to
    proofqueue_attempts_total{outcome}               counter attempts by outcome (``series``)
    proofqueue_ambiguous_resends_total               counter creates resent after ambiguity
    proofqueue_workers_alive                         gauge   heartbeat within the lease
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from proofqueue.api import Figures
from proofqueue.entrypoints.http import parsing
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.pools import Handlers

STATES = ("OK", "DEGRADED", "RECOVERING")
OUTCOMES = ("accepted", "transient", "ambiguous", "permanent", "gave_up", "lease_expired")
MEDIA = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def exposition(found: Figures) -> str:
    """The Prometheus text of ``found``."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: Sequence[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)

    family(
        "proofqueue_intents", "gauge", "Intents in each status.",
        [(f'{{status="{s}"}}', n) for s, n in found.intents.items()],
    )  # fmt: skip
    family(
        "proofqueue_backlog_oldest_age_seconds", "gauge",
        "Age of the oldest QUEUED or RETRYING intent (0 when there is none).",
        [("", round(found.oldest_age_s, 3))],
    )  # fmt: skip
    states, ratios, calls, moves = [], [], [], []
    for v in found.vendors:
        vendor = _label(v.vendor)
        states += [(f'{{vendor="{vendor}",state="{s}"}}', int(v.state == s)) for s in STATES]
        ratios.append(
            (f'{{vendor="{vendor}"}}', round(v.failures / v.calls, 4) if v.calls else 0.0)
        )
        calls.append((f'{{vendor="{vendor}"}}', v.calls))
        moves += [(f'{{vendor="{vendor}",to="{s}"}}', v.transitions.get(s, 0)) for s in STATES]
    family(
        "proofqueue_breaker_state", "gauge",
        "1 for the state the vendor's breaker is in, 0 for the others.", states,
    )  # fmt: skip
    family(
        "proofqueue_breaker_failure_ratio", "gauge",
        "Failed calls over calls in the breaker's live window.", ratios,
    )  # fmt: skip
    family(
        "proofqueue_breaker_calls_in_window", "gauge",
        "Vendor calls in the breaker's live window.", calls,
    )  # fmt: skip
    family(
        "proofqueue_breaker_transitions_total", "counter",
        "Breaker transitions, by the state moved to.", moves,
    )  # fmt: skip
    outcomes = [*OUTCOMES, *sorted(set(found.attempts) - set(OUTCOMES))]
    family(
        "proofqueue_attempts_total", "counter", "Attempts to create a job, by outcome.",
        [(f'{{outcome="{_label(o)}"}}', found.attempts.get(o, 0)) for o in outcomes],
    )  # fmt: skip
    family(
        "proofqueue_ambiguous_resends_total", "counter",
        "Creates sent again after an attempt that may have reached the vendor.",
        [("", found.ambiguous_resends)],
    )  # fmt: skip
    family(
        "proofqueue_workers_alive", "gauge", "Workers whose heartbeat is within the lease.",
        [("", found.workers_alive)],
    )  # fmt: skip
    return "\n".join(lines) + "\n"


class MetricsRoute(Handlers):
    """``GET /metrics``."""

    async def metrics(self, request: Request, caller: Caller) -> Response:
        parsing.query(request, set())
        found = await self.pools.short(self.pq.figures)
        return Response(exposition(found), media_type=MEDIA)
