"""The event-sourced log: one eventsourcing Application holding every intent and breaker.

One application per store on purpose: eventsourcing's SQLite tables are not named per
application, so two applications in one file would share one event sequence.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.utils import Environment, EnvType

from proofqueue.domain.breaker_log import BreakerLog, breaker_id
from proofqueue.domain.errors import IntentNotFound, TrailDamaged
from proofqueue.domain.intent import Intent, intent_id
from proofqueue.domain.transparency_log import TransparencyLog, transparency_log_id


class IntentLog(Application[Any]):
    name = "proofqueue"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the settings proofqueue gives, never the process environment: eventsourcing
        would otherwise read PROOFQUEUE_CIPHER_KEY (this application's name + CIPHER_KEY) as
        its own cipher key, and stray variables like PERSISTENCE_MODULE as its store."""
        return Environment(name, dict(env or {}))

    def intent(self, request_id: str) -> Intent:
        try:
            found: Any = self.repository.get(intent_id(request_id))
        except AggregateNotFoundError:
            raise IntentNotFound(request_id) from None
        except (OriginatorVersionError, ValueError, TypeError, KeyError) as exc:
            raise TrailDamaged(request_id, str(exc)) from None
        if not isinstance(found, Intent):
            raise IntentNotFound(request_id)
        return found

    def breaker_log(self, vendor: str) -> BreakerLog | None:
        """The breaker of ``vendor``, or None before its first transition."""
        try:
            found: object = self.repository.get(breaker_id(vendor))
        except AggregateNotFoundError:
            return None
        if not isinstance(found, BreakerLog):
            raise TypeError("breaker id names another aggregate")
        return found

    def transparency_log(self, origin: str) -> TransparencyLog | None:
        """The checkpoints of the log named ``origin``, or None before the first."""
        try:
            found: object = self.repository.get(transparency_log_id(origin))
        except AggregateNotFoundError:
            return None
        if not isinstance(found, TransparencyLog):
            raise TypeError("transparency log id names another aggregate")
        return found
