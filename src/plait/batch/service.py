"""Batches the server runs in the background (started through the API or the canvas).

Each batch is one `Driver` task (the same driver `plait batch` uses) under its own AIMD
limit of `concurrency` rows. Their state is in the database: a batch is `running` until
every row has settled (`finished`) or a user cancels it (`cancelled`).

A batch is driven by one process at a time: the one holding its lease (the same leases as
runs, `plait.engine.leases`), renewed by a heartbeat while it drives. A process that stops
gives its batches' leases up; one that dies stops renewing them. Either way
`take_over` in any process that executes work (every few seconds) starts the running
batches nobody drives, and the driver's plan adopts or re-attempts rows whose runs were
cut off, so nothing finished is run or paid for twice. A process that does not execute
(`plait serve --no-worker`) only marks a batch to be run; a worker takes it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from plait.batch.driver import BatchJob, Driver, Tally, Work, plan
from plait.batch.estimate import estimate
from plait.batch.limiter import AimdLimiter
from plait.engine.leases import Leases
from plait.flows.loader import flow_from_document
from plait.flows.validate import CompiledFlow, compile_flow
from plait.runtime import Runtime
from plait.store import batches as store
from plait.store.documents import flow_document
from plait.store.leases import BATCHES
from plait.store.tables import Batch

log = logging.getLogger(__name__)

CANCELLED_REASON = "skipped: cancelled"
DEFAULT_CONCURRENCY = 8


class BatchBusy(Exception):
    """The batch is running, or being started, already."""


@dataclass
class _Active:
    task: asyncio.Task[None]
    tally: Tally
    started: float  # monotonic
    settled_at_start: int
    cancelling: bool = False

    def eta_seconds(self) -> float | None:
        done = self.tally.settled - self.settled_at_start
        if done <= 0:
            return None
        rate = done / max(time.monotonic() - self.started, 1e-6)
        return (self.tally.total - self.tally.settled) / rate


class BatchService:
    def __init__(self, runtime: Runtime, leases: Leases | None = None, *, execute: bool = True):
        """`execute`: this process drives batches (else it leaves them to workers)."""
        self.runtime = runtime
        self.leases = leases or Leases(runtime.db)
        self.execute = execute
        self._active: dict[str, _Active] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._starting: set[str] = set()  # two requests must not start one batch twice

    def is_active(self, batch_id: str) -> bool:
        return batch_id in self._active or batch_id in self._starting

    def eta_seconds(self, batch_id: str) -> float | None:
        active = self._active.get(batch_id)
        return active.eta_seconds() if active else None

    def changed(self, batch_id: str) -> asyncio.Event:
        """Set at the next change of the batch (a row settled, the batch ended)."""
        return self._changed.setdefault(batch_id, asyncio.Event())

    async def compiled(self, record: Batch) -> CompiledFlow:
        async with self.runtime.db.new_session() as session:
            document = await flow_document(session, record.flow_hash)
        assert document is not None, f"batch {record.id} has no stored flow"
        return compile_flow(flow_from_document(document), self.runtime.registry)

    async def start(self, record: Batch, statuses: tuple[str, ...]) -> int:
        """Drive the rows of `record` in `statuses` in the background; how many there are."""
        if self.is_active(record.id):
            raise BatchBusy(f"batch '{record.id}' is already running; wait for it or cancel it")
        if not self.execute:
            return await self._leave_to_workers(record, statuses)
        self._starting.add(record.id)
        try:
            if not await self.leases.claim(BATCHES, record.id):
                raise BatchBusy(f"batch '{record.id}' is running on another process")
            try:
                return await self._start(record, statuses)
            except BaseException:
                await self.leases.release(BATCHES, record.id)
                raise
        finally:
            self._starting.discard(record.id)

    async def start_new(self, record: Batch) -> None:
        """Start a batch just created (all its rows pending); if another process's take-over
        claimed it first, it runs there."""
        with contextlib.suppress(BatchBusy):
            await self.start(record, (store.PENDING,))

    async def _leave_to_workers(self, record: Batch, statuses: tuple[str, ...]) -> int:
        """Mark the batch running, its rows in `statuses` pending: a worker takes it over."""
        async with self.runtime.db.new_session() as session:
            counts, _ = await store.status_counts(session, record.id)
        journal = self.runtime.db.journal
        await journal.write(store.reopen_rows(record.id, statuses))
        await journal.write(store.set_state(record.id, store.ACTIVE))
        return sum(counts[s] for s in statuses)

    async def _start(self, record: Batch, statuses: tuple[str, ...]) -> int:
        compiled = await self.compiled(record)
        work = await plan(self.runtime, record.id, statuses)
        tally = await self._tally(record, statuses)
        await self.runtime.db.journal.write(store.set_state(record.id, store.ACTIVE))
        fresh = sum(1 for w in work if w.run_id is None)
        cost = estimate(compiled, fresh, free=self.runtime.backend == "preview")
        driver = Driver(
            self.runtime,
            BatchJob(record.id, compiled, record.trigger_id, None, None),
            AimdLimiter(record.concurrency or DEFAULT_CONCURRENCY),
            per_row_usd=cost.per_row_usd,
            budget_usd=record.budget_usd,
            tally=tally,
            changed=lambda _: self._notify(record.id),
        )
        task = asyncio.create_task(self._drive(record.id, driver, work))
        self._active[record.id] = _Active(task, tally, time.monotonic(), tally.settled)
        self._notify(record.id)
        return len(work)

    async def _tally(self, record: Batch, statuses: tuple[str, ...]) -> Tally:
        async with self.runtime.db.new_session() as session:
            counts, cost = await store.status_counts(session, record.id)
        settled = {s: 0 if s in statuses else n for s, n in counts.items()}  # rows not to run
        return Tally(
            record.total_rows,
            succeeded=settled[store.SUCCEEDED],
            failed=settled[store.FAILED],
            skipped=settled[store.SKIPPED],
            cost_usd=cost,
        )

    async def _drive(self, batch_id: str, driver: Driver, work: list[Work]) -> None:
        journal = self.runtime.db.journal
        try:
            async with self.leases.heartbeat(BATCHES, batch_id, self._lost(batch_id)):
                await driver.run(work)
            await journal.write(store.set_state(batch_id, store.FINISHED))
        except asyncio.CancelledError:
            if not self._active[batch_id].cancelling:  # the process is stopping: another
                await asyncio.shield(self._give_up(batch_id))  # process takes it over
                raise
            await asyncio.shield(journal.write(store.settle_unfinished(batch_id, CANCELLED_REASON)))
            await asyncio.shield(journal.write(store.set_state(batch_id, store.CANCELLED)))
        except Exception:
            log.exception("batch %s stopped", batch_id)
            await journal.write(store.set_state(batch_id, store.FINISHED))
        finally:
            self._active.pop(batch_id, None)
            self._notify(batch_id)

    def _lost(self, batch_id: str) -> Callable[[], None]:
        """Another process took the batch over (this one stalled past its lease): stop."""

        def stop() -> None:
            active = self._active.get(batch_id)
            if active is not None:
                active.task.cancel()

        return stop

    async def _give_up(self, batch_id: str) -> None:
        try:
            await self.runtime.db.journal.flush()
            await self.leases.release(BATCHES, batch_id)
        except Exception:  # its lease runs out instead
            log.warning("could not release the lease on batch %s", batch_id, exc_info=True)

    async def cancel(self, batch_id: str) -> bool:
        """Stop starting rows, cancel those in flight; False if the batch is not running."""
        active = self._active.get(batch_id)
        if active is None:
            return False
        active.cancelling = True
        active.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await active.task
        return True

    async def take_over(self) -> int:
        """Start the running batches no live process drives (this one's, after a restart,
        included); returns how many."""
        async with self.runtime.db.new_session() as session:
            records = await store.unowned_batches(session, self.leases.now())
        taken = 0
        for record in records:
            if self.is_active(record.id):
                continue
            try:
                await self.start(record, (store.PENDING, store.RUNNING))
            except BatchBusy:
                continue  # another process took it first
            taken += 1
        if taken:
            log.warning("took over %d batch(es) that no live process was driving", taken)
        return taken

    async def close(self) -> None:
        """Stop every batch task; their batches stay `running` for the next start."""
        tasks = [a.task for a in self._active.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _notify(self, batch_id: str) -> None:
        event = self._changed.pop(batch_id, None)
        if event is not None:
            event.set()
