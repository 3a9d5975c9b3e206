"""The facade's verify, replay and the transparency log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from proofqueue.bootstrap import (
    Components,
)
from proofqueue.usecases import audit, rebuild, replay, tlog
from proofqueue.usecases.audit import VerifyReport
from proofqueue.usecases.rebuild import RebuildReport
from proofqueue.usecases.replay import ReplayReport
from proofqueue.usecases.tlog import LogReport


class Auditing:
    """Verify, replay and the transparency log."""

    parts: Components

    # -- audit --------------------------------------------------------------------------

    def verify(self, request_ids: Sequence[str] = ()) -> VerifyReport:
        """Recompute proof chains: of ``request_ids``, or of every aggregate in the log."""
        return audit.verify(self.parts, request_ids)

    def replay(
        self,
        *,
        check: bool = False,
        as_of: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ReplayReport:
        """Rebuild every view from the log alone, into a fresh store.

        ``check`` compares the rebuilt views with the live ones; ``as_of`` rebuilds them as
        they stood at that moment (events recorded after it are left out)."""
        return replay.replay(self.parts, check=check, as_of=as_of, progress=progress)

    def rebuild_views(self, progress: Callable[[int], None] | None = None) -> RebuildReport:
        """Build every view from the log alone and put it in place of the live views in one
        transaction (safe while workers run: they read the old views until it commits).
        The report names how the old views differed from the log and what the rebuild
        found about the log's order."""
        return rebuild.rebuild_views(self.parts, progress)

    # -- transparency log -------------------------------------------------------------------

    def checkpoint(self) -> str | None:
        """The latest signed checkpoint (c2sp.org/tlog-checkpoint signed note, text/plain),
        or None before the first. What ``GET /tlog/checkpoint`` serves."""
        return tlog.latest_checkpoint(self.parts)

    def sign_checkpoint(self, now: datetime | None = None) -> str:
        """Sign and record a checkpoint of the tree now (needs PROOFQUEUE_SIGNING_KEY);
        answers the latest one when it already covers every receipt."""
        return tlog.sign_checkpoint(self.parts, now)

    def sign_checkpoint_if_due(self, now: datetime | None = None) -> str | None:
        """For the worker loop, once a round: sign and record a checkpoint when the tree
        grew and the latest checkpoint is ``checkpoint_s`` old; None when nothing was due or
        no signing key is set. Cheap when nothing is due (a catch-up and two indexed reads)."""
        return tlog.sign_checkpoint_if_due(self.parts, now)

    def consistency(self, old_size: int) -> dict[str, Any]:
        """The RFC 6962 consistency proof from ``old_size`` to the latest checkpoint:
        ``{"old_size", "new_size", "proof": [base64], "checkpoint"}``."""
        return tlog.consistency(self.parts, old_size)

    def verify_log(self, checkpoint: str, verifier_key: str) -> LogReport:
        """Check that the log, rebuilt from its events, extends ``checkpoint`` (a signed
        checkpoint an auditor kept) and that its own checkpoints agree with it."""
        return tlog.verify_log(self.parts, checkpoint, verifier_key)
