"""proofqueue: keeps an AI agent's purchases predictable and provable while the vendor it
buys from is unstable.

    from proofqueue import ProofQueue

    pq = ProofQueue.from_env()
    receipt = pq.submit("order-42", actor="agent-7", target="0xProvider/logo", params={...})

Everything a user imports comes from here; test doubles from ``proofqueue.testing``.
"""

from proofqueue.aio import AsyncProofQueue
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
from proofqueue.ports import (
    Accepted,
    AsyncVendor,
    CreateOutcome,
    Found,
    Job,
    JobOrder,
    JobOutcome,
    LookupOutcome,
    LookupUnsupported,
    Permanent,
    Transient,
    Vendor,
)
from proofqueue.settings import Settings
from proofqueue.usecases.audit import Problem, VerifyReport
from proofqueue.usecases.operate import BulkReport
from proofqueue.usecases.rebuild import RebuildReport
from proofqueue.usecases.replay import ReplayReport

__all__ = [
    "Accepted",
    "AsyncProofQueue",
    "AsyncVendor",
    "BreakerPolicy",
    "BreakerState",
    "BulkReport",
    "ConfigurationError",
    "CreateOutcome",
    "Found",
    "IdempotencyConflict",
    "IllegalTransition",
    "IntentNotFound",
    "InvalidInput",
    "Job",
    "JobOrder",
    "JobOutcome",
    "LookupOutcome",
    "LookupUnsupported",
    "Permanent",
    "Problem",
    "ProofQueue",
    "ProofQueueError",
    "RebuildReport",
    "Receipt",
    "Refused",
    "ReplayReport",
    "RetryPolicy",
    "SecretNeedsKey",
    "Settings",
    "Status",
    "TrailDamaged",
    "Transient",
    "Vendor",
    "VerifyReport",
]
