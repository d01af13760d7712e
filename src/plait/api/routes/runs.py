"""Runs from the editor: start with test inputs, list, read, cancel, and a live event stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from plait.access import scopes
from plait.api import schemas
from plait.api.auth import CurrentCaller, State
from plait.api.routes.flows import load_flow_record, parse_document
from plait.api.schemas import EVENTS, answers
from plait.api.state import ServerState
from plait.engine.events import EventKind
from plait.engine.executor import entry_trigger
from plait.engine.relay import event_json, events_channel
from plait.engine.runner import RunRequest
from plait.engine.values import from_json
from plait.flows.subflow import kept_trigger, up_to
from plait.flows.validate import CompiledFlow, compile_flow
from plait.nodes.http_trigger import coerce_inputs, trigger_config
from plait.signals import SignalsUnavailable, Subscription
from plait.store import flows as flow_store
from plait.store import runs as run_store
from plait.store.documents import flow_document
from plait.store.tables import NodeRun, Run
from plait.textlimits import ChosenId

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["runs"])

_SETTLED = {"succeeded", "failed", "cancelled"}
_QUEUED_POLL_SECONDS = 0.25
_RELAYED_CHECK_SECONDS = 5.0  # a relayed stream reads the run's record this often when idle
_NODE_SETTLED = {"node_finished", "node_cached", "node_failed", "node_skipped"}


class StartRun(BaseModel):
    inputs: dict[str, Any] = {}
    document: dict[str, Any] | None = None
    trigger_id: ChosenId | None = None
    reuse_cache: bool = Field(
        default=False,
        description="Reuse outputs of unchanged nodes from earlier runs; off: every node "
        "computes fresh (a new take from each Image node). Either way the outputs are kept, "
        "so the next run that reuses gets this run's take",
    )
    up_to: str | None = None  # run only this node and what it depends on ("Run to here")


@router.post("/flows/{flow_id}/runs", status_code=202, **answers(schemas.RunStarted))
async def start(
    flow_id: str, body: StartRun, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    """Run the given draft document (or the newest version) with test inputs."""
    record = await load_flow_record(state, flow_id)
    if body.document is not None:
        if not scopes.may_run_drafts(caller.scopes):
            raise HTTPException(
                403,
                "running a draft 'document' needs the 'write' scope; a 'run' token runs "
                "the flow's saved version (leave 'document' out)",
            )
        flow = parse_document(body.document)
    else:
        async with state.runtime.db.new_session() as session:
            document = await flow_store.version_document(session, flow_id, record.current_version)
        flow = parse_document(document or {})
    compiled = compile_flow(flow.without_id(), state.runtime.registry)
    trigger_id = body.trigger_id
    if body.up_to is not None:
        compiled = up_to(compiled, body.up_to)
        trigger_id = kept_trigger(compiled, trigger_id)
    inputs = _inputs(compiled, body.inputs, trigger_id)
    async with state.runtime.db.new_session() as session:  # the saved version it is, if any
        saved = await flow_store.version_numbers(session, flow_id, [compiled.digest])
    started = await state.launcher.start(
        RunRequest(
            compiled,
            inputs,
            source="editor",
            flow_id=flow_id,
            trigger_id=trigger_id,
            reuse_cache=body.reuse_cache,
            keep_outputs=True,  # a take the user likes can be reused by the next run
            flow_version=saved.get(compiled.digest),
        ),
    )
    return {"run_id": started.run_id}


def _inputs(compiled: CompiledFlow, raw: dict[str, Any], trigger_id: str | None) -> dict[str, Any]:
    config = trigger_config(compiled, entry_trigger(compiled, trigger_id))
    return {} if config is None else coerce_inputs(config, from_json(raw))


@router.get("/runs", **answers(list[schemas.RunSummary]))
async def list_runs(
    caller: CurrentCaller,
    state: State,
    flow_id: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[dict[str, Any]]:
    async with state.runtime.db.new_session() as session:
        runs = await run_store.list_runs(session, flow_id, limit)
    presenter = state.presenter
    return [presenter.run_summary(r) for r in runs]


async def _run_or_404(session: AsyncSession, run_id: str) -> Run:
    run = await run_store.get_run(session, run_id)
    if run is None:
        raise HTTPException(404, f"no run '{run_id}'")
    return run


@router.get("/runs/{run_id}", **answers(schemas.RunDetail))
async def read_run(run_id: str, caller: CurrentCaller, state: State) -> dict[str, Any]:
    async with state.runtime.db.new_session() as session:
        run = await _run_or_404(session, run_id)
        nodes = await run_store.node_runs(session, run_id)
    return state.presenter.run_detail(run, nodes)


@router.get("/runs/{run_id}/document", **answers(schemas.RunDocument))
async def run_document(run_id: str, caller: CurrentCaller, state: State) -> dict[str, Any]:
    """The exact flow document the run ran (a saved version or an unsaved draft)."""
    async with state.runtime.db.new_session() as session:
        run = await _run_or_404(session, run_id)
        document = await flow_document(session, run.flow_hash)
    return {"flow_version": run.flow_version, "flow_hash": run.flow_hash, "document": document}


@router.post("/runs/{run_id}/cancel", status_code=202, **answers(schemas.RunCancel))
async def cancel(run_id: str, caller: CurrentCaller, state: State) -> dict[str, Any]:
    status = await state.launcher.cancel(run_id)
    if status is None:
        raise HTTPException(404, f"no run '{run_id}'")
    if status in ("cancelling", "cancelled"):
        return {"run_id": run_id, "status": status}
    raise HTTPException(409, f"run '{run_id}' has already {status}")


@router.get("/runs/{run_id}/events", **EVENTS)
async def run_events(run_id: str, caller: CurrentCaller, state: State) -> StreamingResponse:
    """Server-sent events: every node event of the run, live, then `run_finished`."""
    async with state.runtime.db.new_session() as session:
        if await run_store.get_run(session, run_id) is None:
            raise HTTPException(404, f"no run '{run_id}'")
    return StreamingResponse(
        _stream(state, run_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(state: ServerState, run_id: str) -> AsyncIterator[str]:
    waiter = state.live.waiter(run_id)
    try:
        async with _relayed_events(state, run_id) as relayed:
            while (live := state.live.get(run_id)) is None:
                run = await _get_run(state, run_id)
                if run is None or run.status in _SETTLED:
                    async for line in _replay(state, run_id):
                        yield line
                    return
                if relayed is not None:  # it runs, or will, on whichever process
                    async for line in _follow(state, run_id, relayed):
                        yield line
                    return
                yield ": queued\n\n"  # not started yet (a full queue)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), _QUEUED_POLL_SECONDS)
            async for event in live.bus.subscribe():
                if event.kind == EventKind.RUN_FINISHED:
                    await waiter  # the run's record is complete once it settles: say so only then
                yield _sse(_annotated(state, event_json(event, live.executor.states)))
    finally:
        state.live.forget(run_id, waiter)


@contextlib.asynccontextmanager
async def _relayed_events(state: ServerState, run_id: str) -> AsyncIterator[Subscription | None]:
    """The run's events as the process executing it relays them (None: signals stay in
    this process, where the run's own bus serves, or cannot be reached: the stream polls
    the record). Subscribed before the run's record is read, so nothing said after that
    read is missed."""
    if not state.relay.shared:
        yield None
        return
    async with contextlib.AsyncExitStack() as stack:
        relayed = None
        try:
            relayed = await stack.enter_async_context(
                state.signals.subscribe(events_channel(run_id))
            )
        except SignalsUnavailable as exc:  # the stream still ends when the record settles
            log.warning("run %s: its events are not relayed here: %s", run_id, exc)
        yield relayed


async def _follow(state: ServerState, run_id: str, relayed: Subscription) -> AsyncIterator[str]:
    """A run executing on another process (or not started yet): what its record holds so
    far and what that process says it did (asked again: this stream joined late), then its
    events as they come, then the rest of its record and `run_finished`. Each event is
    said once. The record is read again now and then, in case a signal was lost."""
    nodes = await _node_runs(state, run_id)
    settled: set[str | None] = {node.node_id for node in nodes}  # nodes fully told
    told: set[tuple[str, str | None]] = set()
    for line in _node_lines(state, run_id, nodes):
        yield line
    await state.relay.request_replay(run_id)
    while True:
        try:
            message = await asyncio.wait_for(relayed.get(), _RELAYED_CHECK_SECONDS)
        except TimeoutError:
            run = await _get_run(state, run_id)
            if run is None or run.status in _SETTLED:
                break
            yield ": running\n\n"
            continue
        if not isinstance(message, dict):
            continue
        kind, node_id = message["kind"], message.get("node_id")
        if kind == "run_finished":
            break
        if node_id in settled or (kind, node_id) in told:
            continue
        told.add((kind, node_id))
        if kind in _NODE_SETTLED:
            settled.add(node_id)
        yield _sse(_annotated(state, message))
    rest = [node for node in await _node_runs(state, run_id) if node.node_id not in settled]
    for line in _node_lines(state, run_id, rest):
        yield line
    run = await _get_run(state, run_id)
    if run is not None:
        yield _finished_line(run)


async def _get_run(state: ServerState, run_id: str) -> Run | None:
    async with state.runtime.db.new_session() as session:
        return await run_store.get_run(session, run_id)


async def _node_runs(state: ServerState, run_id: str) -> list[NodeRun]:
    async with state.runtime.db.new_session() as session:
        return list(await run_store.node_runs(session, run_id))


async def _replay(state: ServerState, run_id: str) -> AsyncIterator[str]:
    """A settled run's record as the events it made."""
    nodes = await _node_runs(state, run_id)
    run = await _get_run(state, run_id)
    for line in _node_lines(state, run_id, nodes):
        yield line
    if run is not None:
        yield _finished_line(run)


def _node_lines(state: ServerState, run_id: str, nodes: list[NodeRun]) -> list[str]:
    presenter = state.presenter
    return [
        _sse({"kind": _node_kind(n.status, n.cache_hit), "run_id": run_id, **presenter.node_run(n)})
        for n in nodes
    ]


def _finished_line(run: Run) -> str:
    return _sse(
        {
            "kind": "run_finished",
            "run_id": run.id,
            "node_id": None,
            "status": run.status,
            "error": run.error,
        }
    )


def _node_kind(status: str, cache_hit: bool) -> str:
    if status == "succeeded":
        return "node_cached" if cache_hit else "node_finished"
    return {"failed": "node_failed", "skipped": "node_skipped"}.get(status, f"node_{status}")


def _annotated(state: ServerState, data: dict[str, Any]) -> dict[str, Any]:
    """An event's JSON with its outputs' images as signed links."""
    if "outputs" in data:
        return data | {"outputs": state.presenter.annotated(data["outputs"])}
    return data


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, default=str)}\n\n"
