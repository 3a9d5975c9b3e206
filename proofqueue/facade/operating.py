"""The facade's operator actions (one and in bulk), the vendor hold, access tokens."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from proofqueue.bootstrap import (
    Components,
)
from proofqueue.domain.access import Principal
from proofqueue.domain.intent import Status
from proofqueue.domain.receipt import Receipt
from proofqueue.usecases import access, operate
from proofqueue.usecases.operate import BulkReport


class Operating:
    """Operator actions (one and in bulk), the vendor hold, access tokens."""

    parts: Components

    # -- operator actions ---------------------------------------------------------------

    def retry(self, request_id: str, *, operator: str | None = None) -> Receipt:
        """Attempt now, with the retry budget re-armed. Recorded with the operator's name."""
        return operate.retry(self.parts, request_id, operator)

    def cancel(self, request_id: str, *, reason: str, operator: str | None = None) -> Receipt:
        """Fail an intent the vendor holds no job for. Recorded with the operator's name."""
        return operate.cancel(self.parts, request_id, reason, operator)

    def retry_all(
        self,
        *,
        status: Sequence[Status | str],
        target: str | None = None,
        older_than: float | None = None,
        dry_run: bool = False,
        operator: str | None = None,
    ) -> BulkReport:
        """``retry`` every intent matching the filter (FAILED ones are reopened when the
        vendor holds no job for them), each with its own event."""
        return operate.bulk(
            self.parts,
            lambda request_id: self.retry(request_id, operator=operator),
            statuses=status,
            target=target,
            older_than=older_than,
            dry_run=dry_run,
        )

    def cancel_all(
        self,
        *,
        reason: str,
        status: Sequence[Status | str],
        target: str | None = None,
        older_than: float | None = None,
        dry_run: bool = False,
        operator: str | None = None,
    ) -> BulkReport:
        """``cancel`` every intent matching the filter, each with its own event."""
        return operate.bulk(
            self.parts,
            lambda request_id: self.cancel(request_id, reason=reason, operator=operator),
            statuses=status,
            target=target,
            older_than=older_than,
            dry_run=dry_run,
        )

    def hold_vendor(self, *, reason: str, operator: str | None = None) -> None:
        """Hold every call to the vendor, in every process, until ``release_vendor``.
        Submits answer QUEUED meanwhile. Recorded with the operator's name and reason."""
        operate.hold_vendor(self.parts, reason, operator)

    def release_vendor(self, *, operator: str | None = None) -> None:
        """End the operator's hold on the vendor."""
        operate.release_vendor(self.parts, operator)

    # -- access tokens (HTTP API) --------------------------------------------------------

    def create_token(self, name: str, role: str) -> tuple[dict[str, str | None], str]:
        """A new access token: its listing row and the token, which is shown only now (only
        its SHA-256 is stored). Names are 1-64 of ``A-Za-z0-9._-`` and never reused."""
        return access.create(self.parts, name, role)

    def list_tokens(self) -> builtins.list[dict[str, str | None]]:
        """Every token: name, role, created_at, revoked_at. Never the token itself."""
        return access.listing(self.parts)

    def revoke_token(self, name: str) -> None:
        """Revoke the active token ``name`` (``TokenNotFound`` when there is none)."""
        access.revoke(self.parts, name)

    def has_tokens(self) -> bool:
        """Whether any token is active."""
        return access.has_active(self.parts)

    def authenticate(self, token: str) -> Principal | None:
        """The caller an access token stands for, or None when it is not an active token."""
        return access.authenticate(self.parts, token)
