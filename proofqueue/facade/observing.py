"""The facade's reads for dashboards: the breaker's timeline, the metrics' figures and the
exact set a bulk action matches (the web console and ``GET /metrics`` use them)."""

from __future__ import annotations

from collections.abc import Sequence

from proofqueue.bootstrap import Components
from proofqueue.usecases import observe
from proofqueue.usecases.observe import Figures, Timeline


class Observing:
    """The breaker's recent timeline, the scrape-time figures, bulk selections."""

    parts: Components

    def timeline(self, seconds: float = 3600.0, points: int = 60) -> Timeline:
        """The breaker's states, its failure ratio and the backlog over the last
        ``seconds``, in ``points`` samples, from the views (so right after a restart)."""
        return observe.recent(self.parts, seconds, points)

    def figures(self) -> Figures:
        """Counts, the oldest open intent's age, each vendor's breaker, attempt outcomes,
        ambiguous resends and live workers: what ``GET /metrics`` prints."""
        return observe.figures(self.parts)

    def matching(
        self,
        *,
        status: Sequence[str] = (),
        actor: str | None = None,
        target: str | None = None,
        older_than: float | None = None,
        queued_before: float | None = None,
    ) -> list[str]:
        """The request_ids matching the operator list's filter, in list order (queued
        before the epoch ``queued_before`` when given)."""
        return observe.matching(
            self.parts,
            status=status,
            actor=actor,
            target=target,
            older_than=older_than,
            queued_before=queued_before,
        )
