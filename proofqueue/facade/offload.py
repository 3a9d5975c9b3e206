"""Short blocking store calls, run off the event loop in a small pool of this facade's own.

The pool is not the loop's default executor, so a user's ``asyncio.to_thread`` never queues
behind proofqueue's reads and writes; and no proofqueue call keeps one of these threads while
it *waits* (waiting is done on the loop), only while it reads or writes the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

T = TypeVar("T")


class Offload(Protocol):
    """Runs a blocking call off the loop and awaits its result."""

    def __call__(self, fn: Callable[[], T], /) -> Awaitable[T]: ...


class StorePool:
    """A few threads for the store's short calls (``threads``: how many at once)."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pq-store")

    async def __call__(self, fn: Callable[[], T], /) -> T:
        """``fn()`` in one of the pool's threads; cancelling the await stops only the wait."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def shutdown(self) -> None:
        """Let the threads go once their calls end; returns at once."""
        self._pool.shutdown(wait=False)
