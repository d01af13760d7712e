"""Running a flow as a recorded run: queued in the database first, each node checkpointed
as it settles, the totals written at the end. Every kind of run (CLI, editor, trigger,
batch) goes through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from plait.engine import values
from plait.engine.cache import KeepingCache, NodeCache, StoredNodeCache
from plait.engine.context import Services
from plait.engine.events import Event, EventBus, EventKind
from plait.engine.executor import Executor, entry_trigger
from plait.engine.state import NodeState, NodeStatus, RunResult
from plait.flows.validate import CompiledFlow
from plait.ids import ordered_id
from plait.store import run_writes
from plait.store.db import Database
from plait.textlimits import storable

_SETTLED = {
    EventKind.NODE_FINISHED,
    EventKind.NODE_CACHED,
    EventKind.NODE_FAILED,
    EventKind.NODE_SKIPPED,
}


@dataclass
class RunRequest:
    compiled: CompiledFlow
    inputs: dict[str, Any]
    source: str = "cli"
    flow_id: str | None = None
    trigger_id: str | None = None
    reuse_cache: bool = False
    # Keep the outputs for a later run to reuse, even when this one computes fresh.
    keep_outputs: bool = False
    flow_version: int | None = None
    idempotency_key: str | None = None


class Runner:
    def __init__(self, db: Database, services: Services, backend: str):
        self.db = db
        self.services = services
        self.backend = backend

    async def submit(
        self, request: RunRequest, *, running: bool = False, lease: dict[str, Any] | None = None
    ) -> str:
        """Write the run as queued, wait for the commit, and return its id. `running`: the
        caller executes it at once (`execute_with(..., running=True)`), so it is written as
        running, saving the write that would mark it so. `lease`: the row's lease columns,
        when it is created claimed (`Leases.fields`)."""
        run_id, recorded = self._post(request, running, lease)
        await recorded
        return run_id

    def _post(
        self, request: RunRequest, running: bool, lease: dict[str, Any] | None = None
    ) -> tuple[str, asyncio.Future[None]]:
        """Hand the run's row to the journal: its id, and a future settled on commit."""
        flow = request.compiled
        digest = flow.digest
        known = digest in self.db.stored_documents
        row = {
            "id": ordered_id(),
            "flow_hash": digest,
            "flow_id": request.flow_id,
            "trigger_id": entry_trigger(flow, request.trigger_id),
            "flow_version": request.flow_version,
            "idempotency_key": request.idempotency_key,
            "source": request.source,
            "inputs": values.to_json(request.inputs),
        }
        if running:
            row |= run_writes.running_fields(self.backend)
        row |= lease or {}
        recorded = self.db.journal.post(
            run_writes.create_run(row, None if known else flow.flow.to_document())
        )
        self.db.stored_documents.add(digest)
        return str(row["id"]), recorded

    def executor(
        self,
        run_id: str,
        request: RunRequest,
        events: EventBus,
        completed: dict[str, dict[str, Any]] | None = None,
        recorded: asyncio.Future[None] | None = None,
    ) -> Executor:
        """The executor for a run; `completed` holds outputs of nodes a crash did not lose;
        `recorded`, if the run's row may not be committed yet, settles when it is."""
        return Executor(
            request.compiled,
            self.services,
            run_id=run_id,
            run_inputs=request.inputs,
            trigger_id=request.trigger_id,
            events=events,
            cache=_cache(self.db, request),
            completed=completed,
            gate=recorded,
        )

    async def execute_with(
        self,
        executor: Executor,
        bus: EventBus,
        *,
        resumable: bool = False,
        running: bool = False,
        owner: str | None = None,
    ) -> RunResult:
        """Execute and record. If the task is cancelled from outside (Ctrl+C, a server
        stopping), the run is recorded as cancelled, or with `resumable` left `running`
        with its finished nodes checkpointed, for a restart to pick up. `running`: it was
        submitted as running (`submit(..., running=True)`). `owner`: the process whose
        lease the run is under; its final write lands only while that lease is held.
        A resumable run marks each paid call while it is under way (`mark_in_flight`): a
        call that may repeat if this process dies is counted by the one that resumes it."""
        run_id = executor.run_id
        recorded: set[str] = set(executor.resumed)
        paid = _reaching_out(executor) if resumable else frozenset()
        bus.listen(self._recorder(run_id, executor.states, recorded, paid))
        if not running:
            self.db.journal.post(run_writes.mark_running(run_id, self.backend))
        try:
            result = await executor.run()
        except asyncio.CancelledError:
            bus.close()
            if executor.result is not None:
                await asyncio.shield(self._interrupted(executor, recorded, resumable, owner))
            raise
        bus.close()
        self._finish(result, recorded, owner)
        return result

    async def begin(
        self, request: RunRequest, events: EventBus, lease: dict[str, Any] | None = None
    ) -> Executor:
        """Record a run executed at once: its row is posted as running and its executor
        returned, to start while the row is committed; a node that reaches out of Plait
        (a paid call) waits for the commit. Execute it with `execute_with(..., running=True)`.
        `lease`: the row's lease columns, when a process claims it (`Leases.fields`)."""
        await self.db.journal.room()  # nothing else holds the run back: keep the journal's pace
        run_id, recorded = self._post(request, running=True, lease=lease)
        return self.executor(run_id, request, events, recorded=recorded)

    async def run(self, request: RunRequest, events: EventBus | None = None) -> RunResult:
        """Record and execute at once (see `begin`)."""
        bus = events or EventBus()
        executor = await self.begin(request, bus)
        return await self.execute_with(executor, bus, running=True)

    def _recorder(
        self, run_id: str, states: dict[str, NodeState], recorded: set[str], paid: frozenset[str]
    ) -> Callable[[Event], None]:
        """Checkpoints each node worth it as it settles; the rest wait for `_finish`.
        Nodes in `paid` are marked in flight while they run (see `execute_with`)."""
        journal = self.db.journal

        def record(event: Event) -> None:
            node_id = event.node_id
            if node_id is None:
                return
            marked = node_id in paid
            if event.kind == EventKind.NODE_STARTED:
                if marked:
                    node_type = states[node_id].node_type
                    journal.post(run_writes.mark_in_flight(run_id, node_id, node_type))
                return
            if event.kind not in _SETTLED:
                return
            unmark = (run_writes.unmark_in_flight(run_id, node_id),) if marked else ()
            if not _worth_checkpointing(event):
                if unmark:
                    journal.post(unmark)
                return
            journal.post((*unmark, run_writes.insert_nodes(run_id, [node_row(states[node_id])])))
            recorded.add(node_id)

        return record

    async def _interrupted(
        self, executor: Executor, recorded: set[str], resumable: bool, owner: str | None
    ) -> None:
        result = executor.result
        assert result is not None
        if not resumable or executor.cancelled:
            await self._finish(result, recorded, owner)
            return
        done = [
            node_row(state)
            for node_id, state in result.nodes.items()
            if node_id not in recorded and state.status == NodeStatus.SUCCEEDED
        ]
        await self.db.journal.write(run_writes.insert_nodes(result.run_id, done))

    def _finish(
        self, result: RunResult, recorded: set[str], owner: str | None = None
    ) -> asyncio.Future[None]:
        """Write the nodes no event settled (cancelled, never reached) and the run's totals.

        Handed to the journal, not waited for: the result is known now, and a database
        session opened from now on sees the write (`Database.new_session` flushes)."""
        rows = [node_row(s) for node_id, s in result.nodes.items() if node_id not in recorded]
        fields = run_fields(result)
        return self.db.journal.post(run_writes.finish_run(result.run_id, fields, rows, owner))


CHECKPOINT_AFTER_MS = 250


def _worth_checkpointing(event: Event) -> bool:
    """Checkpoint at once what would cost money or time to redo (an Image call); cheap
    nodes' rows wait for the run's final write, or for `_interrupted`."""
    if event.kind != EventKind.NODE_FINISHED:
        return event.kind == EventKind.NODE_FAILED
    duration = event.data.get("duration_ms") or 0
    return bool(event.data.get("billed")) or duration >= CHECKPOINT_AFTER_MS


def _reaching_out(executor: Executor) -> frozenset[str]:
    """The nodes of the run that call a service outside Plait and have not run yet."""
    nodes = executor.compiled.nodes.values()
    return frozenset(n.id for n in nodes if n.node_type.reaches_out) - executor.resumed


def node_row(state: NodeState) -> dict[str, Any]:
    return {
        "node_id": state.node_id,
        "node_type": state.node_type,
        "status": state.status.value,
        "inputs": values.to_json(state.inputs),
        "outputs": values.to_json(state.outputs),
        "backend": state.backend,
        "input_tokens": state.usage.input_tokens,
        "output_tokens": state.usage.output_tokens,
        "cost_usd": state.usage.cost_usd,
        "cache_hit": state.cache_hit,
        "error": storable(state.error),
        "error_port": state.error_port,
        "warnings": list(state.warnings) or None,
        "started_at": _when(state.started_at),
        "finished_at": _when(state.finished_at),
        "duration_ms": state.duration_ms,
    }


def run_fields(result: RunResult) -> dict[str, Any]:
    usage = result.usage
    failure = result.failure
    return {
        "status": result.status.value,
        "result": values.to_json(result.result()) if result.status.value == "succeeded" else None,
        "error": storable(result.error),
        "failed_node": result.failed_node,
        "error_category": failure.error_category if failure else None,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": usage.cost_usd,
        "duration_ms": result.duration_ms,
    }


def _when(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def _cache(db: Database, request: RunRequest) -> NodeCache | None:
    """The node cache a run reads (`reuse_cache`) or only writes (`keep_outputs`)."""
    if request.reuse_cache:
        return StoredNodeCache(db)
    return KeepingCache(StoredNodeCache(db)) if request.keep_outputs else None
