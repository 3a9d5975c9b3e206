"""The record of a transparency log's signed checkpoints, kept in the event log itself.

One ``TransparencyLog`` per origin (its id is a uuid5 of the origin). Each ``Checkpointed``
event carries the tree size, the root hash (base64) and the signed checkpoint note verbatim,
chained like every other event (``chained.py``). The aggregate refuses a checkpoint that
would contradict an earlier one: a smaller tree, or the same size with another root.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from proofqueue.domain.chained import ChainedAggregate
from proofqueue.domain.errors import ProofQueueError, Refused
from proofqueue.domain.intent import NAMESPACE


def transparency_log_id(origin: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"tlog:{origin}")


class CheckpointRefused(Refused):
    """A checkpoint that would fork or shrink the log."""


class NoCheckpoint(ProofQueueError):
    """No signed checkpoint is recorded yet (the CLI exits 1)."""


class TransparencyLog(ChainedAggregate):
    class Started(ChainedAggregate.Created):
        origin: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.origin = self.origin
            aggregate.size = 0
            aggregate.root = None
            aggregate.note = None
            aggregate.signed_at = None

    class Checkpointed(ChainedAggregate.Event):
        size: int
        root: str  # base64, as in the checkpoint text
        note: str  # the signed checkpoint, verbatim

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.size = self.size
            aggregate.root = self.root
            aggregate.note = self.note
            aggregate.signed_at = self.timestamp

    def __init__(self) -> None:
        """State is set by the events."""
        self.origin = ""
        self.size = 0
        self.root: str | None = None
        self.note: str | None = None
        self.signed_at: datetime | None = None

    @classmethod
    def start(cls, origin: str, now: datetime) -> TransparencyLog:
        return cls._chain_create(cls.Started, transparency_log_id(origin), now, origin=origin)

    def record(self, *, size: int, root: str, note: str, now: datetime) -> None:
        """Record a signed checkpoint of the tree at ``size`` with root ``root``."""
        if self.note is not None:
            if size < self.size:
                raise CheckpointRefused(
                    f"a checkpoint of size {size} would shrink the log of {self.origin}"
                    f" (last checkpoint: size {self.size})"
                )
            if size == self.size and root != self.root:
                raise CheckpointRefused(
                    f"a checkpoint of size {size} with another root would fork the log of"
                    f" {self.origin}"
                )
        self._chain(self.Checkpointed, now, size=size, root=root, note=note)
