"""The job queue seam: a job is a run id; a handler executes it.

`InProcessQueue` is the embedded default (`plait serve`): jobs start at once as
tasks, at most `concurrency` at a time. `SaqQueue` (`engine/saq_queue.py`, on Redis)
implements the same protocol for many processes; the same contract tests run both.

A run is queued once: `enqueue` of a run whose job still waits or runs is a no-op. When
the run's lease expired, though, whoever took its job is gone or stalled: `requeue` then
replaces a job that is no longer waiting (a stale one), so that a live worker gets it.
A stale job may still be delivered later (a worker that only stalled, a retry of the
queue's own): the handler (`plait.engine.worker`) executes a run only if it wins the run's
lease, so such a delivery does nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

Handler = Callable[[str], Awaitable[None]]


class JobQueue(Protocol):
    # every job enqueued here goes to this process's own handler (the in-process queue);
    # a shared queue may hand it to any process
    delivers_here: bool

    async def start(self, handler: Handler) -> None:
        """Hand jobs to `handler` from now on. A shared queue (`SaqQueue`) also works
        without it: a process that only enqueues (HTTP only) never calls it; the
        in-process queue needs it, for it is its own consumer."""
        ...

    async def enqueue(self, run_id: str) -> None:
        """Queue the run, unless a job for it already waits or runs here."""
        ...

    async def requeue(self, run_id: str) -> bool:
        """Queue again a run whose lease expired (the row says nobody executes it): a job
        for it that still waits keeps its place (False); one taken by a worker that is
        gone is replaced by a new one (True), as is a job lost altogether."""
        ...

    async def close(self) -> None:
        """Stop consuming; the runs of jobs stopped here are picked up again."""
        ...


class InProcessQueue:
    """Jobs are tasks of this process: a job is never stale while the process lives (a
    run executing here whose lease expired, this process having stalled, is not started
    twice), and dies with it."""

    delivers_here = True

    def __init__(self, concurrency: int = 32):
        self._slots = asyncio.Semaphore(concurrency)
        self._handler: Handler | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}  # by run id, waiting or running

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def enqueue(self, run_id: str) -> None:
        await self.requeue(run_id)

    async def requeue(self, run_id: str) -> bool:
        if self._handler is None:
            raise RuntimeError("the queue has not been started")
        waiting_or_running = self._tasks.get(run_id)
        if waiting_or_running is not None and not waiting_or_running.done():
            return False
        task = asyncio.get_running_loop().create_task(self._work(self._handler, run_id))
        self._tasks[run_id] = task
        task.add_done_callback(lambda done: self._forget(run_id, done))
        return True

    def _forget(self, run_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(run_id) is task:
            del self._tasks[run_id]

    async def close(self) -> None:
        """Cancel running jobs; a restart picks their runs up again from the database."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

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
