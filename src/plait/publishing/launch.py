"""Starting runs from the server: recorded as queued and handed to the job queue, or run
at once in the caller's task.

`Launcher` is the seam; `InProcessLauncher` starts runs on this process's worker and
queue (the embedded default). A scaled-out launcher hands the same run ids to a shared
queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from plait.engine.queue import JobQueue
from plait.engine.relay import RunRelay
from plait.engine.runner import Runner, RunRequest
from plait.engine.state import RunResult
from plait.engine.worker import Worker
from plait.store import runs as run_store
from plait.store.db import Database

OnQueued = Callable[[str], None] | None  # sees a new run's id before it can start


@dataclass(frozen=True)
class Started:
    run_id: str
    is_new: bool  # False: the run an earlier call with the same Idempotency-Key made
    result: RunResult | None = None  # its result, when it ran in the caller's task
    ran: bool = False  # it ran in the caller's task (result None: it did not finish)
    # set when its run settles, taken before the run could start (`LiveRuns.waiter`)
    waiter: asyncio.Future[RunResult | None] | None = None


class Launcher(Protocol):
    async def start(
        self, request: RunRequest, *, awaited: bool = False, on_queued: OnQueued = None
    ) -> Started:
        """Start a run, or find the one an earlier call with its Idempotency-Key made."""
        ...

    async def existing(self, flow_id: str, key: str) -> str | None:
        """The id of the flow's run made with this Idempotency-Key, if any."""
        ...

    async def cancel(self, run_id: str) -> str | None:
        """Cancel a run: "cancelling" (it runs here, or on another process that signals
        reach, and stops at once), "cancelled" (it was queued, and no worker will start
        it), None when there is no such run; else its settled status."""
        ...


class InProcessLauncher:
    def __init__(
        self,
        db: Database,
        runner: Callable[[], Runner],
        worker: Worker,
        queue: JobQueue,
        relay: RunRelay,
        *,
        execute_here: bool = True,
    ):
        """`execute_here`: short local runs a caller waits for may run in its task (not
        in a process that leaves execution to workers, `plait serve --no-worker`)."""
        self._db = db
        self._runner = runner
        self._worker = worker
        self._queue = queue
        self._relay = relay
        self._execute_here = execute_here
        self._claims_here = execute_here and queue.delivers_here

    async def start(
        self, request: RunRequest, *, awaited: bool = False, on_queued: OnQueued = None
    ) -> Started:
        """Start a run: queued for the worker, or run in the caller's task when the caller
        waits for the result (`awaited`) of a flow that does not reach out of Plait, without
        an Idempotency-Key (nothing is at stake before its record lands, and the caller gets
        the answer, not a run id to look up). `on_queued` sees a new run's id before it can
        start (to watch it settle)."""
        key, flow_id = request.idempotency_key, request.flow_id
        if key is not None and flow_id is not None:
            existing = await self.existing(flow_id, key)
            if existing is not None:
                return Started(existing, False)
        if awaited and key is None and not request.compiled.reaches_out and self._execute_here:
            run_id, result = await self._worker.run_here(request, on_queued)
            return Started(run_id, True, result, ran=True)
        # a run for this process's own queue is created claimed by it: no other process
        # takes it while it waits, and its worker starts it without claiming it first
        lease = self._worker.leases.fields() if self._claims_here else None
        try:
            run_id = await self._runner().submit(request, lease=lease)
        except IntegrityError:  # a concurrent call with the same key won the race
            if key is None or flow_id is None:
                raise
            existing = await self.existing(flow_id, key)
            assert existing is not None
            return Started(existing, False)
        if self._execute_here:  # else a worker elsewhere reads it back from the database
            held_until = None if lease is None else lease["lease_expires"]
            self._worker.prepare(run_id, request, held_until)
        if on_queued is not None:
            on_queued(run_id)
        await self._queue.enqueue(run_id)
        return Started(run_id, True)

    async def existing(self, flow_id: str, key: str) -> str | None:
        async with self._db.new_session() as session:
            run = await run_store.run_by_idempotency_key(session, flow_id, key)
        return None if run is None else run.id

    async def cancel(self, run_id: str) -> str | None:
        relay, leases = self._relay, self._worker.leases
        if relay.live.cancel(run_id):
            return "cancelling"
        # one waiting in this process's queue (held by its lease) does not start now
        self._worker.hold_back(run_id)
        async with self._db.new_session() as session, session.begin():
            run = await run_store.get_run(session, run_id)
            if run is None:
                return None
            now = leases.now()
            cancelled = await run_store.cancel_queued(session, run_id, now, leases.owner)
            if not cancelled:
                await session.refresh(run)
        if cancelled:  # committed: no worker can claim it any more
            await relay.request_cancel(run_id)  # the process holding it queued drops it
            relay.live.settled(run_id, None)
            await relay.settled(run_id)
            return "cancelled"
        if run.status == "queued" or (run.status == "running" and relay.shared):
            await relay.request_cancel(run_id)  # a worker took it: it does not start, or stops
            return "cancelling"
        return run.status
