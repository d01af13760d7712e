"""Executing queued runs by id: what the embedded worker and `plait worker` processes do.

A job carries only a run id; everything else (the exact flow document, inputs,
and the outputs of nodes an interrupted attempt already finished) is read from
the database, so a run picked up after a crash does not pay for a node twice.

Many processes may hold the same job (a shared queue, the reaper's re-queuing): the
process that takes the run's lease (`plait.engine.leases`) executes it, and every other
one does nothing. A run submitted to this process's own queue is created already claimed
by it (`Worker.prepare`): while that claim is long enough it starts without another
write. The only calls that may be paid twice are those that were under way on a process
that died: the process that resumes the run counts them (`Worker.repeated`) and logs them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plait.engine.events import EventBus
from plait.engine.executor import Executor
from plait.engine.leases import Leases
from plait.engine.live import LiveRuns
from plait.engine.relay import RunRelay
from plait.engine.runner import Runner, RunRequest
from plait.engine.state import RunResult
from plait.engine.values import from_json
from plait.errors import PlaitError
from plait.flows.compiled import CompiledFlows
from plait.nodes.registry import Registry
from plait.store import run_writes
from plait.store import runs as run_store
from plait.store.db import Database
from plait.store.documents import flow_document
from plait.store.leases import RUNS
from plait.textlimits import storable

log = logging.getLogger(__name__)

# Requests of runs submitted here kept for this process's worker. With a shared queue
# another process may execute the run, and nothing tells this one: the oldest are
# forgotten (such a run, if it comes here after all, is read back from its record).
PREPARED_KEPT = 256


@dataclass(frozen=True)
class _Prepared:
    request: RunRequest
    held_until: datetime | None  # the run was created claimed by this process, until then


@dataclass
class _Job:
    request: RunRequest
    completed: dict[str, dict[str, Any]]


class Worker:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        runner: Callable[[], Runner],
        live: LiveRuns,
        leases: Leases | None = None,
        relay: RunRelay | None = None,
        prepared_kept: int = PREPARED_KEPT,
        compiled: CompiledFlows | None = None,
    ):
        """`relay`: tells other processes (and this one's waiters) what the runs here do;
        `prepared_kept`: how many `prepare`d requests are kept at most; `compiled`: flow
        documents compiled once, by content hash (shared with the server's own, in a
        process that has one)."""
        self.db = db
        self.registry = registry
        self.compiled = compiled or CompiledFlows(registry)
        self.runner = runner
        self.live = live
        self.leases = leases or Leases(db)
        self.repeated = 0  # paid calls run again: they were under way on a process that died
        self.relay = relay

        self._prepared: dict[str, _Prepared] = {}  # oldest first
        self._prepared_kept = prepared_kept
        self._starting: set[str] = set()  # claiming or loading here, not yet executing

    def prepare(self, run_id: str, request: RunRequest, held_until: datetime | None = None) -> None:
        """The request of a run just submitted here: spares reading it back from the
        database if this process executes it (the oldest beyond `prepared_kept` are
        forgotten: another process may have executed them). `held_until`: the run was
        created claimed by this process (`Leases.fields`), its job queued here."""
        self._prepared[run_id] = _Prepared(request, held_until)
        while len(self._prepared) > self._prepared_kept:
            del self._prepared[next(iter(self._prepared))]

    def cancel_here(self, run_id: str) -> bool:
        """Stop the run if it executes here, or keep it from starting if it waits here."""
        return self.live.cancel(run_id) or self.hold_back(run_id)

    def hold_back(self, run_id: str) -> bool:
        """Keep the run from starting if it waits here (True), prepared or being claimed."""
        if run_id in self._prepared or run_id in self._starting:
            self.live.forbid_start(run_id)
            return True
        return False

    async def process(self, run_id: str) -> None:
        """Execute a queued run if this process holds or wins its lease: the request
        `prepare` kept, or the one its record holds. Another process's run is left alone."""
        if self.live.get(run_id) is not None or run_id in self._starting:
            return  # a stale job of a run starting or executing here
        executor, elsewhere = None, False
        self._starting.add(run_id)
        try:
            prepared = self._prepared.pop(run_id, None)
            if not self._holds_long(prepared):  # else created claimed here, and still is
                if self.live.cancelled_before_start(run_id):
                    return
                if not await self.leases.take(RUNS, run_id):
                    # settled, or another process executes it: its waiters here wait for
                    # that process's settled signal (a stray job must not wake them early)
                    elsewhere = await self._unsettled(run_id)
                    return
            job = _Job(prepared.request, {}) if prepared else await self._load(run_id)
            if job is None:
                return
            if self.live.cancelled_before_start(run_id):  # while it was claimed or held
                await self._cancel_claimed(run_id)
                return
            runner = self.runner()
            bus = EventBus(replay=True)
            executor = runner.executor(run_id, job.request, bus, job.completed)
        finally:
            self._starting.discard(run_id)
            if executor is None and not elsewhere:
                self.live.settled(run_id, None)
        await self._execute(runner, executor, bus, running=False)

    def _holds_long(self, prepared: _Prepared | None) -> bool:
        until = None if prepared is None else prepared.held_until
        return until is not None and self.leases.holds_long(until)

    async def _unsettled(self, run_id: str) -> bool:
        async with self.db.new_session() as session:
            run = await run_store.get_run(session, run_id)
        return run is not None and run.status in run_store.RUNNABLE

    async def run_here(
        self, request: RunRequest, on_start: Callable[[str], None] | None = None
    ) -> tuple[str, RunResult | None]:
        """Record and execute a run in the caller's task, without the queue: for a caller
        that waits for the result of a flow that does not reach out of Plait (its work is
        local and short). `on_start` sees the run's id before it starts."""
        runner = self.runner()
        bus = EventBus(replay=True)
        executor = await runner.begin(request, bus, lease=self.leases.fields())
        if on_start is not None:
            on_start(executor.run_id)
        return executor.run_id, await self._execute(runner, executor, bus, running=True)

    async def _execute(
        self, runner: Runner, executor: Executor, bus: EventBus, *, running: bool
    ) -> RunResult | None:
        """Execute under this process's lease, where live streams and cancels find it;
        wake its waiters when it ends. Stopped from outside (the process stopping), the
        run's lease is given up at once, for another process to resume it."""
        run_id, owner = executor.run_id, self.leases.owner
        result = None
        self.live.started(run_id, executor, bus)
        report = None if self.relay is None else self.relay.follow(run_id, bus, executor.states)
        try:
            async with self.leases.heartbeat(RUNS, run_id, executor.cancel):
                result = await runner.execute_with(
                    executor, bus, resumable=True, running=running, owner=owner
                )
        except asyncio.CancelledError:
            await asyncio.shield(self._give_up(run_id))
            raise
        finally:
            self.live.settled(run_id, result)
            if report is not None:
                report.ended()
        return result

    async def _cancel_claimed(self, run_id: str) -> None:
        """A run held here but cancelled before it started: recorded as such."""
        cancelled = run_writes.finish_run(
            run_id, dict(run_store.CANCELLED_BEFORE_START), [], self.leases.owner
        )
        await self.db.journal.write(cancelled)
        await self.db.journal.flush()  # committed before anyone is told it settled
        if self.relay is not None:
            await self.relay.settled(run_id)

    async def release_waiting(self) -> None:
        """The process stopping, its queue closed: the runs it holds that never started are
        given up, for any process to take at once (not once their claims run out)."""
        try:
            async with self.db.new_session() as session, session.begin():
                released = await run_store.release_queued(
                    session, self.leases.owner, self.leases.now()
                )
        except Exception:  # their claims run out instead
            log.warning("could not give up the claims on queued runs", exc_info=True)
            return
        if released:
            log.info("gave up %d queued run(s) for another process to take", released)

    async def _give_up(self, run_id: str) -> None:
        try:
            await self.db.journal.flush()  # its checkpoints land before another takes it
            await self.leases.release(RUNS, run_id)
        except Exception:  # its lease runs out instead
            log.warning("could not release the lease on run %s", run_id, exc_info=True)

    async def _load(self, run_id: str) -> _Job | None:
        """The run's request from its record. A run still queued has no node rows (it is
        marked running before any is written), so only a resumed run reads them; a flow
        compiled here before is not read again (its document never changes)."""
        async with self.db.new_session() as session:
            run = await run_store.get_run(session, run_id)
            if run is None or run.status not in run_store.RUNNABLE:
                return None
            compiled = self.compiled.get(run.flow_hash)
            document = None if compiled else await flow_document(session, run.flow_hash)
            resumed = run.status == "running"
            completed = await run_store.succeeded_outputs(session, run_id) if resumed else {}
            in_flight = await run_store.in_flight_nodes(session, run_id) if resumed else []
        try:
            compiled = compiled or self.compiled.of(run.flow_hash, document or {})
        except PlaitError as exc:
            failed = {"status": "failed", "error": storable(f"the flow is invalid: {exc}")}
            await self.db.journal.write(
                run_writes.finish_run(run_id, failed, [], self.leases.owner)
            )
            return None
        if resumed:  # an interrupted attempt: its unfinished nodes run again
            self._count_repeats(run_id, len(completed), in_flight)
            await self.db.journal.write(run_writes.forget_unsettled_nodes(run_id))
        request = RunRequest(
            compiled,
            from_json(run.inputs),
            source=run.source,
            flow_id=run.flow_id,
            trigger_id=run.trigger_id,
        )
        return _Job(request, {k: from_json(v) for k, v in completed.items()})

    def _count_repeats(self, run_id: str, finished: int, in_flight: list[str]) -> None:
        """Say what resuming the run costs again: only the calls that were under way."""
        self.repeated += len(in_flight)
        log.warning(
            "resuming run %s: %d finished node(s) kept, %d paid call(s) that were in flight "
            "on the previous owner run again%s",
            run_id,
            finished,
            len(in_flight),
            f" ({', '.join(sorted(in_flight))})" if in_flight else "",
        )
