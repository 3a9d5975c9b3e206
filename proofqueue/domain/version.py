"""An event's version (its position in its aggregate's trail) as the store gives it back.

A version is a whole number from 1 that the store holds as an integer. Anything else in
that column is damage: SQLite's INTEGER column keeps TEXT, REAL, NULL and BLOB values as
they are written (text that is an integer, such as ``'2'``, SQLite itself stores as the
integer, so it is the same event; text it keeps is no number to it, whatever Python's
``int()`` would make of it); PostgreSQL's ``bigint`` column takes any whole number,
including 0, negatives, and ones past the 32-bit INTEGER columns of the views.

``checked(value)`` gives a good version back unchanged and anything else as a
``BadVersion``: an ``int`` of 0 (no event has that position) that keeps what was stored,
so code that counts, compares or stores versions goes on, and the strict mapper names the
event as damaged (``reason``).
"""

from __future__ import annotations

# The highest position an event can hold: the views keep versions in 32-bit INTEGER columns
# (PostgreSQL), and no trail comes near it.
MAX_VERSION = 2**31 - 1


class BadVersion(int):
    """A stored version that is no position: 0 wherever a number is needed; ``stored``
    holds what the store gave back."""

    stored: object

    def __new__(cls, stored: object) -> BadVersion:
        """The damaged version that holds ``stored``."""
        made = super().__new__(cls, 0)
        made.stored = stored.stored if isinstance(stored, BadVersion) else stored
        return made

    def __repr__(self) -> str:
        return f"BadVersion({self.stored!r})"

    @property
    def reason(self) -> str:
        """What is wrong with it, in one line for a user (the stored value quoted)."""
        value = self.stored
        if value is None:
            return "its version is missing (NULL)"
        if isinstance(value, str):
            return f"its version is the text {_short(value)}, not a whole number"
        if isinstance(value, bytes | bytearray | memoryview):
            size = f"{len(value)} byte" + ("" if len(value) == 1 else "s")
            return f"its version is {size} of binary data, not a whole number"
        if isinstance(value, float):
            return f"its version is the real number {value!r}, not a whole number"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"its version {value} is no position (events count from 1 to {MAX_VERSION})"
        return f"its version is a {type(value).__name__}, not a whole number"


def checked(value: object) -> int:
    """``value`` if it is a version (an ``int`` from 1 to ``MAX_VERSION``), else a
    ``BadVersion`` holding it."""
    if type(value) is int and 0 < value <= MAX_VERSION:
        return value
    return BadVersion(value)


def is_bad(value: object) -> bool:
    """Whether ``value`` (as ``checked`` gives it, or as a store holds it) is no version."""
    return type(value) is not int or not 0 < value <= MAX_VERSION


def _short(text: str, most: int = 40) -> str:
    """``repr`` of ``text`` (control characters escaped), cut to ``most`` characters."""
    return repr(text if len(text) <= most else text[:most] + "...")
