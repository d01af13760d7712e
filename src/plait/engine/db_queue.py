"""The runs table as the job queue: `plait worker` processes sharing a database without
Redis find their work by asking it for claimable runs.

A run enqueued in a process that polls starts here first (the row would be found anyway,
a poll later); in a process that does not execute (`plait serve --no-worker`, which never
starts the queue) `enqueue` does nothing: the run's row, committed as queued before it is
enqueued, is the job. Every poller may see the same run; the one whose worker wins the
run's lease executes it (`plait.engine.worker`). It implements `JobQueue` (and passes its
contract tests), so a shared queue (SAQ on Redis) takes its place without changing the
worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from plait.engine.leases import Clock
from plait.engine.queue import Handler, handled
from plait.store import runs as run_store
from plait.store.db import Database
from plait.store.tables import utcnow

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 1.0


class DatabaseQueue:
    delivers_here = False  # any poller may find a run's row

    def __init__(
        self,
        db: Database,
        concurrency: int = 32,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        clock: Clock = utcnow,
    ):
        self._db = db
        self._concurrency = concurrency
        self._poll_seconds = poll_seconds
        self._clock = clock
        self._wake = asyncio.Event()
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._waiting: dict[str, None] = {}  # enqueued here, in order, not yet started
        self._poller: asyncio.Task[None] | None = None

    async def start(self, handler: Handler) -> None:
        self._poller = asyncio.get_running_loop().create_task(self._poll(handler))

    async def enqueue(self, run_id: str) -> None:
        await self.requeue(run_id)

    async def requeue(self, run_id: str) -> bool:
        """The run's row is its job: a run waiting or running here is left as it is."""
        if self._poller is None:
            return False  # not executing here: a worker finds the run's row
        if run_id in self._waiting or run_id in self._jobs:
            return False
        self._waiting[run_id] = None
        self._wake.set()
        return True

    async def close(self) -> None:
        """Stop polling and cancel running jobs; their leases are released for others."""
        tasks = [*self._jobs.values(), *([self._poller] if self._poller else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def take(self, handler: Handler) -> list[str]:
        """Start a job for each run enqueued here, then for each claimable run in the
        database, as far as there is room; their ids."""
        taken: list[str] = []
        while self._waiting and len(self._jobs) < self._concurrency:
            run_id = next(iter(self._waiting))
            del self._waiting[run_id]
            if run_id not in self._jobs:
                self._start(handler, run_id)
                taken.append(run_id)
        room = self._concurrency - len(self._jobs)
        if room <= 0:
            return taken
        async with self._db.new_session() as session:
            found = await run_store.claimable_runs(session, self._clock(), room + len(self._jobs))
        for run_id in [r for r in found if r not in self._jobs and r not in self._waiting][:room]:
            self._start(handler, run_id)
            taken.append(run_id)
        return taken

    def _start(self, handler: Handler, run_id: str) -> None:
        self._jobs[run_id] = asyncio.get_running_loop().create_task(self._work(handler, run_id))

    async def _poll(self, handler: Handler) -> None:
        while True:
            self._wake.clear()
            try:
                await self.take(handler)
            except Exception:
                log.exception("could not look for queued runs; trying again")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_seconds):
                    await self._wake.wait()

    async def _work(self, handler: Handler, run_id: str) -> None:
        try:
            await handled(handler, run_id)
        finally:
            self._jobs.pop(run_id, None)
            self._wake.set()  # room for another
