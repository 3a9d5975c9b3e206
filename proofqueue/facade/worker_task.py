"""The worker as an asyncio task: its rounds run in a thread of their own (and its vendor
calls in that worker's pool of ``concurrency`` threads), supervised by a task on the loop.

Cancelling the task stops the worker cooperatively: the stop is signalled, the thread
finishes its calls in flight (a vendor that hangs: up to its timeout) and records them,
and the task awaits that end on the loop, holding no thread and never blocking the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from proofqueue.process.worker import Worker


async def run_worker(worker: Worker) -> None:
    """Run ``worker`` until this coroutine is cancelled (or the worker fails: its error is
    raised here). On cancellation, waits off the loop for the worker to stop, then re-raises
    ``CancelledError``."""
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    ended: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if ended.done():
            return
        if error is None:
            ended.set_result(None)
        else:
            ended.set_exception(error)

    def target() -> None:
        error: BaseException | None = None
        try:
            worker.run(stop)
        except BaseException as exc:  # handed to the task, which raises it on the loop
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=target, name="proofqueue-worker", daemon=True).start()
    try:
        await asyncio.shield(ended)
    except asyncio.CancelledError:
        stop.set()
        worker.nudge()
        await asyncio.shield(ended)  # its calls in flight end and are recorded
        raise
