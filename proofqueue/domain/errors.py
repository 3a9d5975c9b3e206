"""Every error proofqueue raises on purpose, in one tree.

    ProofQueueError
    ├── InvalidInput            bad input; names the field (CLI exit 2)
    │   └── SecretNeedsKey      params hold a secret but no cipher key is set (exit 2)
    ├── Refused                 a valid request the current state does not allow (exit 2)
    │   ├── IdempotencyConflict the request_id exists with other params (exit 2)
    │   └── IllegalTransition   e.g. cancel of an intent the vendor already holds (exit 2)
    ├── IntentNotFound          no intent has this request_id (exit 3)
    ├── TrailDamaged            a stored event is damaged: names it (exit 1, like verify)
    └── ConfigurationError      settings or store cannot be used (exit 2)

Messages are written for the person who has to act on them.
"""

from __future__ import annotations


class ProofQueueError(Exception):
    """Base of every error proofqueue raises on purpose."""


class InvalidInput(ProofQueueError):
    """Bad input: ``field`` names what is wrong, ``problem`` says why. Nothing written."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class SecretNeedsKey(InvalidInput):
    """Params hold a secret (``paths``) but no cipher key is set to store them sealed."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        shown = ", ".join(paths[:5]) + (" ..." if len(paths) > 5 else "")
        super().__init__(
            "params",
            f"contains a secret ({shown}) but PROOFQUEUE_CIPHER_KEY is not set, so it cannot be"
            " stored sealed; create a key with `proofqueue key` and export"
            " PROOFQUEUE_CIPHER_KEY=<key>",
        )


class Refused(ProofQueueError):
    """A well-formed request that the intent's current state does not allow."""


class IdempotencyConflict(Refused):
    """The request_id was recorded with other params, actor or target: use a new one."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(
            f"request_id {request_id!r} was already used with different params, actor or target;"
            " an idempotency key names one intent forever: use a new request_id"
        )


class IllegalTransition(Refused):
    """An operator action the intent's status does not allow (say, cancel once SUBMITTED)."""

    def __init__(self, request_id: str, action: str, status: str, why: str = "") -> None:
        self.request_id = request_id
        self.action = action
        self.status = status
        extra = f": {why}" if why else ""
        super().__init__(f"cannot {action} {request_id!r}, it is {status}{extra}")


class IntentNotFound(ProofQueueError):
    """No intent has this request_id."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(f"no intent with request_id {request_id!r}")


def damage_note(seq: int | None, reason: str) -> str:
    """Why an intent with a damaged event waits, as ``waiting_for`` says it."""
    return f"trail damaged at event {seq}: {reason}" if seq else f"trail damaged: {reason}"


class TrailDamaged(ProofQueueError):
    """A stored event of an intent (or of the breaker) cannot be read back or does not
    match its proof chain. ``seq`` is the first damaged event, when known."""

    def __init__(self, request_id: str, detail: str, seq: int | None = None) -> None:
        self.request_id = request_id
        self.detail = detail
        self.seq = seq
        self.last_good: object | None = None  # the aggregate as of the event before
        where = f" at event {seq}" if seq is not None else ""
        super().__init__(
            f"trail of {request_id!r} is damaged{where}: {detail};"
            f" run `proofqueue verify {request_id}` to check it"
        )


class StoreDamaged(ProofQueueError):
    """The store's file is damaged beyond what its views' rebuild can repair."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(
            f"{what}: {detail}; the store's file is damaged beyond its views: restore it"
            " from a backup, or copy what SQLite can still read with `sqlite3 FILE .recover`"
            " (`proofqueue verify --all` then checks the log)"
        )


class ConfigurationError(ProofQueueError):
    """Settings or the store cannot be used as given."""
