"""Starting runs from the server: recorded as queued and handed to the job queue, or run
at once in the caller's task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from plait.api.state import ServerState
from plait.engine.runner import RunRequest
from plait.engine.state import RunResult
from plait.flows.loader import flow_from_document
from plait.flows.validate import CompiledFlow, compile_flow
from plait.store import runs as run_store

_COMPILED_CACHE_SIZE = 256


def compiled(state: ServerState, digest: str, document: dict[str, Any]) -> CompiledFlow:
    """The compiled form of a stored document, kept by content hash (documents never change)."""
    found = state.compiled.get(digest)
    if found is None:
        found = compile_flow(flow_from_document(document), state.runtime.registry)
        if len(state.compiled) >= _COMPILED_CACHE_SIZE:
            state.compiled.pop(next(iter(state.compiled)))
        state.compiled[digest] = found
    return found


@dataclass(frozen=True)
class Started:
    run_id: str
    is_new: bool  # False: the run an earlier call with the same Idempotency-Key made
    result: RunResult | None = None  # its result, when it ran in the caller's task
    ran: bool = False  # it ran in the caller's task (result None: it did not finish)


async def start_run(
    state: ServerState,
    request: RunRequest,
    *,
    awaited: bool = False,
    on_queued: Callable[[str], None] | None = None,
) -> Started:
    """Start a run: queued for the worker, or run in the caller's task when the caller
    waits for the result (`awaited`) of a flow that does not reach out of Plait, without
    an Idempotency-Key (nothing is at stake before its record lands, and the caller gets
    the answer, not a run id to look up). `on_queued` sees a new run's id before it can
    start (to watch it settle)."""
    key, flow_id = request.idempotency_key, request.flow_id
    if key is not None and flow_id is not None:
        existing = await existing_run(state, flow_id, key)
        if existing is not None:
            return Started(existing, False)
    if awaited and key is None and not request.compiled.reaches_out:
        run_id, result = await state.worker.run_here(request, on_queued)
        return Started(run_id, True, result, ran=True)
    try:
        run_id = await state.runtime.runner().submit(request)
    except IntegrityError:  # a concurrent call with the same key won the race
        if key is None or flow_id is None:
            raise
        existing = await existing_run(state, flow_id, key)
        assert existing is not None
        return Started(existing, False)
    state.worker.prepare(run_id, request)
    if on_queued is not None:
        on_queued(run_id)
    await state.queue.enqueue(run_id)
    return Started(run_id, True)


async def existing_run(state: ServerState, flow_id: str, key: str) -> str | None:
    """The id of the flow's run made with this Idempotency-Key, if any."""
    async with state.runtime.db.new_session() as session:
        run = await run_store.run_by_idempotency_key(session, flow_id, key)
    return None if run is None else run.id


async def cancel_run(state: ServerState, run_id: str) -> str | None:
    """Cancel a run: "cancelling" (it runs here and stops at once), "cancelled" (it was
    queued, and will not start), None when there is no such run; else its settled status."""
    if state.live.cancel(run_id):
        return "cancelling"
    async with state.runtime.db.new_session() as session, session.begin():
        run = await run_store.get_run(session, run_id)
        if run is None:
            return None
        if await run_store.cancel_queued(session, run_id):
            state.live.forbid_start(run_id)
            state.live.settled(run_id, None)
            return "cancelled"
        return run.status
