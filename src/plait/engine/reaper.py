"""The reaper: queues again the runs nobody executes any more.

Every process that executes runs reaps, every few seconds (`Reaper.reap` is one pass):
- a run whose lease expired: the process that held it died or stalled, and stopped
  renewing it (a process that stops cleanly releases its leases, so they expire at once);
- a run queued longer than the grace period that nobody ever claimed: its job was lost
  (the process whose in-memory queue held it died, or Redis restarted empty).

A run executing anywhere is never touched: its owner's heartbeat keeps its lease in the
future. Each such run is handed to `JobQueue.requeue` at every pass until a worker claims
it: a job for it still waiting keeps its place, and one that went stale with its worker
(taken, never finished) is replaced, so the run reaches a live worker whatever state the
queue kept it in. A stale job delivered after all is harmless: only the process that
wins the run's lease executes it, and node checkpoints keep finished nodes from running
again (`plait.engine.worker`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from plait.engine.leases import Leases
from plait.engine.queue import JobQueue
from plait.store import runs as run_store
from plait.store.db import Database

log = logging.getLogger(__name__)

DEFAULT_QUEUED_GRACE_SECONDS = 120.0
_PER_PASS = 500


class Reaper:
    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        leases: Leases,
        queued_grace_seconds: float = DEFAULT_QUEUED_GRACE_SECONDS,
    ):
        self.db = db
        self.queue = queue
        self.leases = leases
        self.grace = timedelta(seconds=queued_grace_seconds)

    async def reap(self) -> list[str]:
        """Queue again the runs nobody executes; the ids of those that were not already
        waiting in the queue."""
        now = self.leases.now()
        async with self.db.new_session() as session:
            found = await run_store.claimable_runs(
                session, now, _PER_PASS, queued_before=now - self.grace
            )
        orphans = [run_id for run_id in found if await self.queue.requeue(run_id)]
        if orphans:
            log.warning("queued %d run(s) again that no live process executes", len(orphans))
        return orphans
