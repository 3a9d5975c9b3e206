"""Who may do what through the HTTP API (and the MCP server): roles, token names, and the
actions each role is allowed. Pure: no I/O, no clock.

    agent     submits intents (as itself: actor = the token's name) and reads the receipts
              of its own intents
    operator  also lists, reads trails and receipts of every intent, retries, cancels,
              holds and releases the vendor
    auditor   reads everything, verifies and replays; changes nothing
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from proofqueue.domain.errors import InvalidInput, ProofQueueError, Refused

TOKEN_PREFIX = "pq_"  # noqa: S105  (a prefix, not a secret)
MAX_NAME = 64
# A presented token longer than this is not one of ours; it is refused before it is hashed.
MAX_TOKEN = 200

_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class Role(StrEnum):
    AGENT = "agent"
    OPERATOR = "operator"
    AUDITOR = "auditor"


class Action(StrEnum):
    SUBMIT = "submit"
    READ_OWN_RECEIPT = "read own receipt"
    READ_ANY_INTENT = "read any intent"
    LIST = "list"
    HEALTH = "health"
    RETRY = "retry"
    CANCEL = "cancel"
    HOLD = "hold or release the vendor"
    VERIFY = "verify"
    REPLAY = "replay"


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.AGENT: frozenset({Action.SUBMIT, Action.READ_OWN_RECEIPT, Action.HEALTH}),
    Role.OPERATOR: frozenset(
        {
            Action.SUBMIT,
            Action.READ_OWN_RECEIPT,
            Action.READ_ANY_INTENT,
            Action.LIST,
            Action.HEALTH,
            Action.RETRY,
            Action.CANCEL,
            Action.HOLD,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Action.READ_OWN_RECEIPT,
            Action.READ_ANY_INTENT,
            Action.LIST,
            Action.HEALTH,
            Action.VERIFY,
            Action.REPLAY,
        }
    ),
}


@dataclass(frozen=True)
class Principal:
    """The caller a token stands for: its name (the actor or operator recorded) and role."""

    name: str
    role: Role

    def may(self, action: Action) -> bool:
        return action in ALLOWED[self.role]

    def sees_intent_of(self, actor: str) -> bool:
        """An agent sees only its own intents; operators and auditors see every one."""
        return self.may(Action.READ_ANY_INTENT) or actor == self.name


class TokenNotFound(ProofQueueError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no active token named {name!r}")


class TokenNameTaken(Refused):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"a token named {name!r} exists or existed (names stay unique, since the trail"
            " records them); choose another name"
        )


def parse_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput("name", "must be 1-64 characters of A-Z a-z 0-9 . _ -")
    return name


def parse_role(role: object) -> Role:
    try:
        return Role(str(role)) if isinstance(role, str) else Role("")
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput("role", f"{role!r} is not a role; known: {known}") from None
