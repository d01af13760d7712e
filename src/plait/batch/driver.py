"""Executing a stored batch: rows become recorded runs, at most `limit` at a time.

Every row's run goes through the `Runner` exactly as `plait run` makes one (source
`batch`, idempotency key `batch:<id>:<row>:<attempt>`). What makes it safe to kill:

- the run is written as queued before it executes, and the row is linked to it before
  it executes; a crash between the two leaves a run the key finds again;
- a row linked to a run that had not ended is finished by the worker's resumption
  logic (`Worker.process`): nodes that succeeded are not executed again;
- a row is settled (status, cost, output files) only after its run is recorded, and a
  settled row is never started again, so no row completes twice.

Concurrency: the limiter bounds the image provider's calls in flight (each call holds a
slot: `LimitedProvider`), not the rows. A row's queued run is committed and its other
nodes run before it waits for a slot, at the moment it is about to pay for a call;
after the call it stores the image and settles without holding one. So the slots stay
busy with calls (each row's own bookkeeping would otherwise idle a slot for tens of
milliseconds per call on a busy event loop). A new row starts only while fewer than a
quarter of the limit (at least one) rows are getting ready, i.e. have not yet started
a call (and never more than `ROWS_PER_SLOT` × the limit rows in all). Not more: the
event loop takes turns among the rows it runs, so a hundred rows getting ready at once
would send their first calls all at the end (and get the answers back in one burst); a
quarter at a time, the first calls leave early and the waves spread out. A flow that
calls no image model has no calls to bound: the limit bounds its rows. In Batch API
mode (`pool`) the calls wait for jobs, and the limiter bounds the rows in flight.

Budget: before a row starts, the recorded cost of the batch plus the estimate of every
row in flight and of this one must stay within the cap; otherwise nothing new starts and
the rows not started are marked `skipped` with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plait.batch.batch_api import JobPool
from plait.batch.limiter import AimdLimiter
from plait.batch.outputs import export_row
from plait.batch.rows import Row
from plait.collector import long_lived_frozen
from plait.engine.context import Services
from plait.engine.events import EventBus
from plait.engine.live import LiveRuns
from plait.engine.runner import Runner, RunRequest
from plait.engine.state import RunResult, RunStatus
from plait.engine.values import from_json, to_json
from plait.engine.worker import Worker
from plait.flows.validate import CompiledFlow
from plait.ids import new_id
from plait.providers.base import ImageProvider, ImageRequest, ImageResult
from plait.runtime import Runtime
from plait.store import batches as store
from plait.store import runs as run_store
from plait.store.journal import Write

log = logging.getLogger(__name__)

BUDGET_REASON = "skipped: budget"
_UNFINISHED = ("queued", "running")
# Rows in flight at most, per slot of the limit (a row with several calls at once holds
# several slots)
ROWS_PER_SLOT = 2


@dataclass
class Tally:
    total: int
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    cost_usd: float = 0.0

    @property
    def settled(self) -> int:
        return self.succeeded + self.failed + self.skipped

    def count(self, status: str) -> None:
        if status == store.SUCCEEDED:
            self.succeeded += 1
        elif status == store.FAILED:
            self.failed += 1
        elif status == store.SKIPPED:
            self.skipped += 1


@dataclass
class Work:
    """A row to bring to an end: adopt `run_id` (it may have ended) or start attempt `attempt`."""

    number: int
    inputs: dict[str, Any]
    attempt: int
    run_id: str | None = None
    carried: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchJob:
    batch_id: str
    compiled: CompiledFlow
    trigger_id: str | None
    flow_dir: Path | None
    out_dir: Path | None
    allow_dirs: tuple[Path, ...] = ()  # more folders the flow may read files from


@dataclass
class Outcome:
    tally: Tally
    stopped_by_budget: bool = False


async def create(
    runtime: Runtime,
    compiled: CompiledFlow,
    rows: list[Row],
    *,
    flow_path: Path,
    rows_path: Path,
    trigger_id: str | None,
    out_dir: Path | None,
    server: dict[str, Any] | None = None,
    batch_api: bool = False,
) -> str:
    """Store a new batch (its exact flow document and every checked row, pending); its id.

    `server` holds the columns of a batch the server runs (flow id and version, budget…).
    """
    batch_id = new_id()
    record = {
        "id": batch_id,
        "flow_hash": compiled.digest,
        "flow_path": str(flow_path),
        "rows_path": str(rows_path),
        "trigger_id": trigger_id,
        "out_dir": str(out_dir) if out_dir else None,
        "total_rows": len(rows),
        **(server or {}),
        "batch_api": batch_api,
    }
    stored = [{"number": r.number, "given": r.given, "inputs": to_json(r.inputs)} for r in rows]
    write = store.create_batch(record, compiled.flow.to_document(), stored)
    await runtime.db.journal.write(write)
    return batch_id


def run_key(batch_id: str, number: int, attempt: int) -> str:
    return f"batch:{batch_id}:{number}:{attempt}"


async def plan(runtime: Runtime, batch_id: str, statuses: tuple[str, ...]) -> list[Work]:
    """The rows in `statuses` as work.

    A row linked to a run that had not ended adopts it (the worker resumes it); a row
    whose link a crash lost adopts the run its key finds; any other row starts a new
    attempt, carrying over the outputs of nodes its last run finished (a failed,
    cancelled or interrupted attempt is not paid for twice).
    """
    with long_lived_frozen():  # loading thousands of rows would set off a full collection
        return await _plan(runtime, batch_id, statuses)


async def _plan(runtime: Runtime, batch_id: str, statuses: tuple[str, ...]) -> list[Work]:
    async with runtime.db.new_session() as session:
        rows = [r for r in await store.rows_of(session, batch_id) if r.status in statuses]
        keys = [run_key(batch_id, r.number, r.attempts + 1) for r in rows]
        orphans = await store.runs_by_key(session, keys)
        work = []
        for row in rows:
            if row.status == store.RUNNING and row.run_id is not None:
                run = await run_store.get_run(session, row.run_id)
                if run is not None and run.status != "cancelled":
                    work.append(Work(row.number, row.inputs, row.attempts, row.run_id))
                    continue
            orphan = orphans.get(run_key(batch_id, row.number, row.attempts + 1))
            if orphan is not None:
                work.append(Work(row.number, row.inputs, row.attempts + 1, orphan))
                continue
            carried = {}
            if row.run_id is not None:
                finished = await run_store.succeeded_outputs(session, row.run_id)
                carried = {node_id: from_json(v) for node_id, v in finished.items()}
            work.append(Work(row.number, row.inputs, row.attempts + 1, None, carried))
    work.sort(key=lambda w: (w.run_id is None, w.number))  # runs already started come first
    return work


class Driver:
    def __init__(
        self,
        runtime: Runtime,
        job: BatchJob,
        limiter: AimdLimiter,
        *,
        per_row_usd: float,
        budget_usd: float | None,
        tally: Tally,
        changed: Callable[[Tally], None] = lambda tally: None,
        pool: JobPool | None = None,
    ):
        """`pool`: Gemini Batch API mode; the rows' Image calls go to its jobs."""
        self.runtime = runtime
        self.job = job
        self.limiter = limiter
        self.per_row_usd = per_row_usd
        self.budget_usd = budget_usd
        self.tally = tally
        self.changed = changed
        self.in_flight = 0
        self.pool = pool
        self._limited: LimitedProvider | None = None
        self._moved = asyncio.Event()  # a row ended or a call started: another may start
        self._before_call = 0  # rows in flight that have not yet started a call
        nodes = job.compiled.nodes.values()
        self._calls = any(n.node_type.uses_image_provider for n in nodes)
        provider: Callable[[], ImageProvider] = (lambda: pool) if pool else self._provider
        services = Services(runtime.blobs, provider, job.flow_dir, runtime.http, job.allow_dirs)
        self.runner = Runner(runtime.db, services, runtime.backend)
        self.worker = Worker(runtime.db, runtime.registry, lambda: self.runner, LiveRuns())

    def _provider(self) -> ImageProvider:
        provider = self.runtime.provider()
        if provider.name == "gemini":  # it reports its 429s to the limiter
            from plait.providers.gemini import GeminiProvider

            if isinstance(provider, GeminiProvider):
                provider.rate_signals = self.limiter
        limited = self._limited
        if limited is None or limited.provider is not provider:  # a new key, a new provider
            limited = self._limited = LimitedProvider(provider, self.limiter, self._call_started)
        return limited

    async def run(self, work: list[Work]) -> Outcome:
        with long_lived_frozen():
            return await self._run(work)

    async def _run(self, work: list[Work]) -> Outcome:
        tasks: set[asyncio.Task[None]] = set()
        stopped_at: int | None = None
        if self.pool is not None:
            self.pool.expect(len(work))
        try:
            for index, item in enumerate(work):
                taken = await self._room()
                if item.run_id is None and self._over_budget():
                    if taken is not None:
                        self.limiter.release(taken, succeeded=False)
                    stopped_at = index
                    if self.pool is not None:
                        self.pool.expect(index - len(work))  # these rows will not run
                    break
                self.in_flight += 1
                self._before_call += 1
                task = asyncio.create_task(self._row(item, taken, _Progress()))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.runtime.db.journal.flush()  # the rows' posted writes
        if stopped_at is None:
            return Outcome(self.tally)
        numbers = [w.number for w in work[stopped_at:]]
        await self.runtime.db.journal.write(
            store.skip_rows(self.job.batch_id, numbers, BUDGET_REASON)
        )
        self.tally.skipped += len(numbers)
        self.changed(self.tally)
        return Outcome(self.tally, stopped_by_budget=True)

    async def _room(self) -> float | None:
        """Wait until another row may start. Batch API mode: the row holds a slot of the
        limiter, taken at the returned clock reading; otherwise its calls take slots."""
        if self.pool is not None:
            return await self.limiter.acquire()
        while not self._may_start():
            self._moved.clear()
            await self._moved.wait()
        return None

    def _may_start(self) -> bool:
        limit = self.limiter.limit
        if not self._calls:  # a flow that calls no image model: the limit bounds the rows
            return self.in_flight < limit
        getting_ready = max(1, limit // 4)
        return self.in_flight < ROWS_PER_SLOT * limit and self._before_call < getting_ready

    def _call_started(self) -> None:
        """A call took its slot: if it is its row's first, another row may get ready."""
        progress = _ROW.get()
        if progress is not None and not progress.called:
            progress.called = True
            self._before_call -= 1
            self._moved.set()

    def _over_budget(self) -> bool:
        if self.budget_usd is None:
            return False
        committed = self.tally.cost_usd + self.in_flight * self.per_row_usd
        return committed + self.per_row_usd > self.budget_usd + 1e-9

    async def _row(self, item: Work, taken: float | None, progress: _Progress) -> None:
        _ROW.set(progress)  # this task's context, and so its nodes' tasks'
        status = store.FAILED
        try:
            with self._scope(item):
                status = await self._bring_to_end(item)
        except Exception as exc:  # one row's internal failure must not stop the others
            log.exception("batch row %d failed", item.number)
            error = f"internal error: {type(exc).__name__}: {exc}"
            await self.runtime.db.journal.write(
                store.settle_row(
                    self.job.batch_id,
                    item.number,
                    status=store.FAILED,
                    error=error,
                    cost_usd=0.0,
                    outputs=None,
                )
            )
            self.tally.count(store.FAILED)
        finally:
            self.in_flight -= 1
            if not progress.called:
                self._before_call -= 1
            if taken is not None:
                self.limiter.release(taken, succeeded=status == store.SUCCEEDED)
            self._moved.set()
            self.changed(self.tally)

    @contextlib.contextmanager
    def _scope(self, item: Work) -> Iterator[None]:
        if self.pool is None:
            yield
            return
        with self.pool.row(item.number, item.attempt):
            yield

    async def _bring_to_end(self, item: Work) -> str:
        db = self.runtime.db
        if item.run_id is not None:  # adopt it: the worker resumes it, or finds it ended
            await db.journal.write(self._link(item, item.run_id))
            await self.worker.process(item.run_id)
            return await self._settle(item.number, await self._recorded(item.run_id))
        request = RunRequest(
            self.job.compiled,
            from_json(item.inputs),
            source="batch",
            trigger_id=self.job.trigger_id,
            idempotency_key=run_key(self.job.batch_id, item.number, item.attempt),
        )
        run_id = await self.runner.submit(request, running=True)
        # Not awaited: the journal keeps order, so the link commits before the run's end;
        # a crash before it commits leaves a run that the row's key finds again (`plan`).
        db.journal.post(self._link(item, run_id, error=None))
        bus = EventBus()
        executor = self.runner.executor(run_id, request, bus, item.carried or None)
        result = await self.runner.execute_with(executor, bus, running=True)  # recorded at the end
        return await self._settle(item.number, Ended.of_result(result))

    def _link(self, item: Work, run_id: str, **fields: Any) -> Write:
        number, attempt = item.number, item.attempt
        return store.update_row(
            self.job.batch_id, number, status=store.RUNNING, run_id=run_id, attempts=attempt,
            **fields,
        )  # fmt: skip

    async def _recorded(self, run_id: str) -> Ended:
        async with self.runtime.db.new_session() as session:
            run = await run_store.get_run(session, run_id)
        if run is None or run.status in _UNFINISHED:
            raise RuntimeError(f"run {run_id} did not end")
        return Ended(run.status, run.cost_usd, from_json(run.result), run.error, run.failed_node)

    async def _settle(self, number: int, run: Ended) -> str:
        """Settle the row from its recorded run. The write is posted, not awaited: the run is
        committed already, and a row left `running` by a crash is settled by a resume."""
        outputs: list[str] | None = None
        error = None
        if run.status == "succeeded":
            status = store.SUCCEEDED
            if self.job.out_dir is not None:
                outputs = await export_row(number, run.value, self.job.out_dir, self.runtime.blobs)
        else:
            status = store.FAILED
            where = f"node '{run.failed_node}': " if run.failed_node else ""
            error = f"{where}{run.error or run.status}"
        self.runtime.db.journal.post(
            store.settle_row(
                self.job.batch_id,
                number,
                status=status,
                error=error,
                cost_usd=run.cost_usd,
                outputs=outputs,
            )
        )
        self.tally.count(status)
        self.tally.cost_usd += run.cost_usd
        return status


@dataclass
class _Progress:
    """How far a row has got: `called` once one of its calls took a slot."""

    called: bool = False


# The row whose task (or node task) is running: tells `_call_started` whose call it is.
_ROW: contextvars.ContextVar[_Progress | None] = contextvars.ContextVar(
    "plait_batch_row", default=None
)


class LimitedProvider:
    """The image provider of a batch's rows: each call holds a slot of the limiter while
    it runs (its retries included); a call that raises counts as no success."""

    def __init__(
        self,
        provider: ImageProvider,
        limiter: AimdLimiter,
        started: Callable[[], None] = lambda: None,
    ):
        """`started` is told when a call has taken its slot."""
        self.provider = provider
        self.limiter = limiter
        self.name = provider.name
        self._started = started
        self.model_list = provider.model_list  # an unlisted model fails before the paid call

    async def generate(self, request: ImageRequest) -> ImageResult:
        async with self.limiter.slot():
            self._started()
            return await self.provider.generate(request)

    async def aclose(self) -> None:
        """Nothing of its own: the runtime closes the provider."""


@dataclass(frozen=True, slots=True)
class Ended:
    """How a row's run ended: from its in-memory result, or its record when adopted."""

    status: str
    cost_usd: float
    value: Any
    error: str | None
    failed_node: str | None

    @classmethod
    def of_result(cls, result: RunResult) -> Ended:
        succeeded = result.status == RunStatus.SUCCEEDED
        value = result.result() if succeeded else None
        cost = result.usage.cost_usd
        return cls(result.status.value, cost, value, result.error, result.failed_node)
