"""What the process manager does after each event of an intent: the reaction table.

Written once, here; the worker loop and ``submit(wait=...)`` both dispatch through
``reaction_to``. A test checks that every event class of the intent has exactly one entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from eventsourcing.domain import Aggregate

from proofqueue.domain.intent import Intent


class Reaction(StrEnum):
    ATTEMPT = "attempt when due"  # due work: claim, call the vendor, record the outcome
    FOLLOW = "follow the job"  # read the vendor's job until it completes or fails
    NONE = "nothing: terminal"


REACTIONS: Mapping[type[Aggregate.Event], Reaction] = {
    Intent.Queued: Reaction.ATTEMPT,
    # A claim whose lease runs out makes the intent due again: the takeover reconciles first.
    Intent.AttemptStarted: Reaction.ATTEMPT,
    Intent.RetryScheduled: Reaction.ATTEMPT,
    Intent.Reopened: Reaction.ATTEMPT,
    Intent.Submitted: Reaction.FOLLOW,
    Intent.JobUnresolved: Reaction.FOLLOW,
    Intent.Settled: Reaction.NONE,
    Intent.Failed: Reaction.NONE,
}


def reaction_to(intent: Intent) -> Reaction:
    """The reaction to the intent's latest event."""
    if intent.last_event is None:
        return Reaction.NONE
    return REACTIONS[intent.last_event]
