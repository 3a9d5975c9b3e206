"""proofqueue: keeps an AI agent's purchases predictable and provable while the vendor it
buys from is unstable.

    from proofqueue import ProofQueue

    pq = ProofQueue.from_env()
    receipt = pq.submit("order-42", actor="agent-7", target="0xProvider/logo", params={...})

Everything a user imports comes from here; test doubles from ``proofqueue.testing``.

- ``ProofQueue``: the facade (``help(ProofQueue)``), ``Settings``, the policies.
- Answers: ``Receipt``; the reads' typed rows ``IntentRow``, ``Health`` (``Held``,
  ``Transition``, ``DamagedEvent``, ``BreakerDamage``), ``Trail`` (``TrailEvent``),
  ``WorkerRow``; reports ``VerifyReport``, ``ReplayReport``, ``BulkReport``, ``LogReport``.
- Errors: ``ProofQueueError`` and its subclasses.
- Bring your own vendor: the ports ``Vendor`` and ``AsyncVendor``, what they are given
  (``JobOrder``) and answer (``Accepted``, ``Transient``, ``Permanent``, ``Job``, ``Found``,
  ``LookupUnsupported``).
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
    StoreDamaged,
    TrailDamaged,
)
from proofqueue.domain.intent import Status
from proofqueue.domain.jsonvalue import JsonValue
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
    TransientKind,
    Vendor,
)
from proofqueue.settings import Settings
from proofqueue.usecases.audit import Problem, VerifyReport
from proofqueue.usecases.operate import BulkReport
from proofqueue.usecases.rebuild import RebuildReport
from proofqueue.usecases.replay import ReplayReport
from proofqueue.usecases.shapes import (
    BreakerDamage,
    DamagedEvent,
    Health,
    Held,
    IntentRow,
    NewIntent,
    Trail,
    TrailEvent,
    Transition,
    WorkerRow,
)
from proofqueue.usecases.tlog import LogReport

__all__ = [
    "Accepted",
    "AsyncProofQueue",
    "AsyncVendor",
    "BreakerDamage",
    "BreakerPolicy",
    "BreakerState",
    "BulkReport",
    "ConfigurationError",
    "CreateOutcome",
    "DamagedEvent",
    "Found",
    "Health",
    "Held",
    "IdempotencyConflict",
    "IllegalTransition",
    "IntentNotFound",
    "IntentRow",
    "InvalidInput",
    "Job",
    "JobOrder",
    "JobOutcome",
    "JsonValue",
    "LogReport",
    "LookupOutcome",
    "LookupUnsupported",
    "NewIntent",
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
    "StoreDamaged",
    "Trail",
    "TrailDamaged",
    "TrailEvent",
    "Transient",
    "TransientKind",
    "Transition",
    "Vendor",
    "VerifyReport",
    "WorkerRow",
]
