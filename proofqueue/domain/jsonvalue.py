"""``JsonValue``: what a JSON document may hold, as a (recursive) type.

``dict[str, JsonValue] | list[JsonValue] | str | bool | int | float | None``: pydantic's
own alias, so models validate it and mypy checks it. Params are a ``Mapping[str,
JsonValue]``; the nested objects and arrays are plain ``dict`` and ``list``, as JSON gives
them (validated again at run time, with the size and depth limits).
"""

from __future__ import annotations

from pydantic import JsonValue

__all__ = ["JsonValue"]
