"""The reaper: queues again the runs nobody executes any more.

Every process that executes runs reaps, every few seconds (`Reaper.reap` is one pass):
- a run whose lease expired: the process that held it died or stalled, and stopped
  renewing it (a process that stops cleanly releases its leases, so they expire at once);
- a run queued longer than the grace period that nobody ever claimed: its job was lost
  (the process whose in-memory queue held it died, or Redis restarted empty).

A run executing anywhere is never touched: its owner's heartbeat keeps its lease in the
future. Queuing a run twice is harmless: only the process that wins its lease executes it,
and node checkpoints keep finished nodes from running again (`plait.engine.worker`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from plait.engine.leases import Leases
from plait.engine.queue import JobQueue
from plait.engine.worker import Worker
from plait.store import runs as run_store
from plait.store.db import Database

log = logging.getLogger(__name__)

DEFAULT_QUEUED_GRACE_SECONDS = 120.0
_PER_PASS = 500


class Reaper:
    def __init__(
        self,
        db: Database,
        worker: Worker,
        queue: JobQueue,
        leases: Leases,
        queued_grace_seconds: float = DEFAULT_QUEUED_GRACE_SECONDS,
    ):
        self.db = db
        self.worker = worker
        self.queue = queue
        self.leases = leases
        self.grace = timedelta(seconds=queued_grace_seconds)

    async def reap(self) -> list[str]:
        """Queue again the runs nobody executes; their ids."""
        now = self.leases.now()
        async with self.db.new_session() as session:
            found = await run_store.claimable_runs(
                session, now, _PER_PASS, queued_before=now - self.grace
            )
        orphans = [run_id for run_id in found if not self.worker.holds(run_id)]
        for run_id in orphans:
            self.worker.hold(run_id)
            await self.queue.enqueue(run_id)
        if orphans:
            log.warning("queued %d run(s) again that no live process executes", len(orphans))
        return orphans
