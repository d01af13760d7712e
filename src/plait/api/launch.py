"""Starting runs from the server: record as queued, then hand the id to the job queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from plait.api.state import ServerState
from plait.engine.runner import RunRequest
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


async def start_run(
    state: ServerState,
    request: RunRequest,
    *,
    awaited: bool = False,
    on_queued: Callable[[str], None] | None = None,
) -> tuple[str, bool]:
    """Queue a run; returns its id and whether it is new (False: the Idempotency-Key's run).

    `awaited`: the caller waits for the result. Then a flow that does not reach out of
    Plait starts before its queued record is committed (nothing is at stake before it lands,
    and the caller gets the answer, not a run id to look up). `on_queued` sees a new run's
    id before it can start (to watch it settle)."""
    key, flow_id = request.idempotency_key, request.flow_id
    if key is not None and flow_id is not None:
        existing = await existing_run(state, flow_id, key)
        if existing is not None:
            return existing, False
    try:
        early = awaited and key is None and not request.compiled.reaches_out
        run_id = await state.runtime.runner().submit(request, committed=not early)
    except IntegrityError:  # a concurrent call with the same key won the race
        if key is None or flow_id is None:
            raise
        existing = await existing_run(state, flow_id, key)
        assert existing is not None
        return existing, False
    state.worker.prepare(run_id, request)
    if on_queued is not None:
        on_queued(run_id)
    await state.queue.enqueue(run_id)
    return run_id, True


async def existing_run(state: ServerState, flow_id: str, key: str) -> str | None:
    """The id of the flow's run made with this Idempotency-Key, if any."""
    async with state.runtime.db.new_session() as session:
        run = await run_store.run_by_idempotency_key(session, flow_id, key)
    return None if run is None else run.id
