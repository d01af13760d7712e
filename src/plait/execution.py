"""What a process that executes work does for as long as it runs (`plait serve` with its
embedded worker, `plait worker`): take jobs from its queue, and every few seconds queue
again the runs nobody executes (`plait.engine.reaper`), take over the batches nobody
drives, and deliver due callbacks (`plait.publishing.outbox`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from plait.batch.service import BatchService
from plait.engine import periodic
from plait.engine.queue import JobQueue
from plait.engine.reaper import Reaper
from plait.engine.worker import Worker
from plait.publishing.outbox import Outbox
from plait.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Executing:
    worker: Worker
    queue: JobQueue
    batches: BatchService
    outbox: Outbox
    settings: Settings

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start the queue and the duties (each done once before this yields); on exit,
        stop the batches and the jobs here, giving their leases up for another process (and
        those of the runs still waiting here)."""
        reaper = Reaper(
            self.worker.db,
            self.queue,
            self.worker.leases,
            self.settings.queued_grace_seconds,
        )
        every = self.worker.leases.seconds / 3
        duties: list[tuple[str, periodic.Duty, float]] = [
            ("queuing runs again", reaper.reap, every),
            ("taking over batches", self.batches.take_over, every),
            ("delivering callbacks", self.outbox.deliver_due, self.settings.worker_poll_seconds),
        ]
        await self.queue.start(self.worker.process)
        try:
            for name, duty, _ in duties:
                await periodic.once(duty, name)
            async with periodic.running(duties):
                yield
        finally:
            await self.batches.close()
            await self.queue.close()
            await self.worker.release_waiting()
