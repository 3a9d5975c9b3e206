"""The event-sourced log: one eventsourcing Application holding every intent and breaker.

One application per store on purpose: eventsourcing's SQLite tables are not named per
application, so two applications in one file would share one event sequence.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application

from proofqueue.domain.errors import IntentNotFound
from proofqueue.domain.intent import Intent, intent_id


class IntentLog(Application[Any]):
    name = "proofqueue"

    def intent(self, request_id: str) -> Intent:
        try:
            found: Any = self.repository.get(intent_id(request_id))
        except AggregateNotFoundError:
            raise IntentNotFound(request_id) from None
        if not isinstance(found, Intent):
            raise IntentNotFound(request_id)
        return found

    def find(self, request_id: str) -> Intent | None:
        try:
            return self.intent(request_id)
        except IntentNotFound:
            return None
