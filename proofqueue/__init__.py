"""proofqueue: keeps an AI agent's purchases predictable and provable while the vendor it
buys from is unstable.

    from proofqueue import ProofQueue

    pq = ProofQueue.from_env()
    receipt = pq.submit("order-42", actor="agent-7", target="0xProvider/logo", params={...})

Everything a user imports comes from here.
"""

from proofqueue.api import ProofQueue
from proofqueue.domain.backoff import RetryPolicy
from proofqueue.domain.breaker import BreakerPolicy, BreakerState
from proofqueue.domain.errors import (
    ConfigurationError,
    IdempotencyConflict,
    IllegalTransition,
    IntentNotFound,
    InvalidInput,
    ProofQueueError,
    Refused,
    SecretNeedsKey,
    TrailDamaged,
)
from proofqueue.domain.intent import Status
from proofqueue.domain.receipt import Receipt
from proofqueue.ports import Vendor
from proofqueue.settings import Settings
from proofqueue.usecases.audit import VerifyReport
from proofqueue.usecases.replay import ReplayReport

__all__ = [
    "BreakerPolicy",
    "BreakerState",
    "ConfigurationError",
    "IdempotencyConflict",
    "IllegalTransition",
    "IntentNotFound",
    "InvalidInput",
    "ProofQueue",
    "ProofQueueError",
    "Receipt",
    "Refused",
    "ReplayReport",
    "RetryPolicy",
    "SecretNeedsKey",
    "Settings",
    "Status",
    "TrailDamaged",
    "Vendor",
    "VerifyReport",
]
