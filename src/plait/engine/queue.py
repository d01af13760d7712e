"""The job queue seam: a job is a run id; a handler executes it.

`InProcessQueue` is the embedded default (`plait serve`): jobs start at once as
tasks, at most `concurrency` at a time. `SaqQueue` (`engine/saq_queue.py`, on Redis)
implements the same protocol for many processes; the same contract tests run both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

Handler = Callable[[str], Awaitable[None]]


class JobQueue(Protocol):
    async def start(self, handler: Handler) -> None:
        """Hand jobs to `handler` from now on. A shared queue (`SaqQueue`) also works
        without it: a process that only enqueues (HTTP only) never calls it; the
        in-process queue needs it, for it is its own consumer."""
        ...

    async def enqueue(self, run_id: str) -> None: ...

    async def close(self) -> None:
        """Stop consuming; the runs of jobs stopped here are picked up again."""
        ...


class InProcessQueue:
    def __init__(self, concurrency: int = 32):
        self._slots = asyncio.Semaphore(concurrency)
        self._handler: Handler | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def enqueue(self, run_id: str) -> None:
        if self._handler is None:
            raise RuntimeError("the queue has not been started")
        task = asyncio.get_running_loop().create_task(self._work(self._handler, run_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel running jobs; a restart picks their runs up again from the database."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _work(self, handler: Handler, run_id: str) -> None:
        async with self._slots:
            await handled(handler, run_id)


async def handled(handler: Handler, run_id: str) -> None:
    """Run one job; its failure is logged and goes no further (the other jobs go on)."""
    try:
        await handler(run_id)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("job for run %s failed", run_id)


__all__ = ["Handler", "InProcessQueue", "JobQueue", "handled"]
