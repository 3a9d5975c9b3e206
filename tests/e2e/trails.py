"""What the trails of many intents show about their attempts, read straight from the log's
event store (one read per intent, where ``show`` also loads the intent, checks its chain and
explains what it waits for: ``verify --all`` checks the chains in these tests)."""

from __future__ import annotations

from collections.abc import Sequence

from proofqueue import ProofQueue, Settings
from proofqueue.domain.intent import Intent, intent_id

RESOLVED = (Intent.RetryScheduled, Intent.Submitted, Intent.Failed)


def attempt_problems(store: str, ids: Sequence[str]) -> tuple[list[str], int]:
    """Intents whose trail shows an attempt started while another was unresolved (and not
    taken over after its lease ran out); and how many takeovers there were."""
    overlapping, takeovers = [], 0
    with ProofQueue(Settings(store=store)) as pq:
        events = pq.parts.log.events
        for rid in ids:
            open_attempt = False
            for event in events.get(intent_id(rid)):
                if isinstance(event, Intent.AttemptStarted):
                    takeovers += event.takeover
                    if open_attempt and not event.takeover:
                        overlapping.append(rid)
                    open_attempt = True
                elif isinstance(event, RESOLVED):
                    open_attempt = False
    return overlapping, takeovers
