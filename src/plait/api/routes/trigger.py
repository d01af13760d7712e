"""The published API: `POST /api/trigger/{secret}/{node_id}` and its status route (public)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from plait.api.auth import State
from plait.api.bodies import image_value, read_fields
from plait.api.launch import compiled, start_run
from plait.api.present import Presenter
from plait.api.state import ServerState
from plait.crypto.tokens import digest
from plait.engine.runner import RunRequest
from plait.engine.values import from_json
from plait.flows.validate import CompiledFlow
from plait.media.image_ref import ImageRef
from plait.nodes.http_trigger import HttpTriggerConfig, coerce_inputs
from plait.nodes.respond import RespondConfig
from plait.store import flows as flow_store
from plait.store import runs as run_store
from plait.store.flows import PublishedFlow
from plait.store.tables import Run

router = APIRouter(tags=["trigger"])

NOT_FOUND = "no published flow has this trigger; check the URL and its secret"
_MAX_IDEMPOTENCY_KEY = 255


@router.post("/api/trigger/{secret}/{node_id}")
async def trigger(
    secret: str, node_id: str, request: Request, state: State, wait: bool = True
) -> Response:
    published = await _published(state, secret)
    flow = None if published is None else compiled(state, published.hash, published.document)
    if published is None or flow is None or not _is_trigger(flow, node_id):
        raise HTTPException(404, NOT_FOUND)
    verdict = await state.limiter.hit(
        f"{published.flow_id}:{node_id}", published.rate_limit_per_minute
    )
    if not verdict.allowed:
        raise HTTPException(
            429,
            f"over this trigger's limit of {verdict.limit} requests per minute; "
            f"retry after {verdict.headers()['Retry-After']} s",
            headers=verdict.headers(),
        )
    inputs = await _inputs(state, request, flow, node_id)
    run_id, _ = await start_run(
        state,
        RunRequest(
            flow,
            inputs,
            source="trigger",
            flow_id=published.flow_id,
            trigger_id=node_id,
            flow_version=published.version,
            idempotency_key=_idempotency_key(request),
        ),
    )
    answer = await _answer(state, secret, run_id, flow, wait and _responds(flow))
    answer.headers.update(verdict.headers())
    return answer


@router.get("/api/trigger/{secret}/runs/{run_id}")
async def trigger_run_status(secret: str, run_id: str, state: State) -> dict[str, Any]:
    published = await _published(state, secret)
    run = await _run(state, run_id)
    if published is None or run is None or run.flow_id != published.flow_id:
        raise HTTPException(404, NOT_FOUND)
    return _status_json(state, secret, run)


async def _published(state: ServerState, secret: str) -> PublishedFlow | None:
    async with state.runtime.db.new_session() as session:
        return await flow_store.published_by_secret(session, digest(secret))


def _is_trigger(flow: CompiledFlow, node_id: str) -> bool:
    node = flow.nodes.get(node_id)
    return node is not None and isinstance(node.config, HttpTriggerConfig)


def _responds(flow: CompiledFlow) -> bool:
    return any(isinstance(n.config, RespondConfig) for n in flow.nodes.values())


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= _MAX_IDEMPOTENCY_KEY:
        raise HTTPException(400, f"Idempotency-Key must be 1 to {_MAX_IDEMPOTENCY_KEY} characters")
    return key


async def _inputs(
    state: ServerState, request: Request, flow: CompiledFlow, node_id: str
) -> dict[str, Any]:
    config = flow.nodes[node_id].config
    assert isinstance(config, HttpTriggerConfig)
    cap = state.settings.max_upload_bytes
    raw = await read_fields(request, cap)
    for field in config.fields:
        if field.type == "image" and raw.get(field.name) is not None:
            raw[field.name] = await image_value(
                field.name, raw[field.name], state.runtime.blobs, cap
            )
    return coerce_inputs(config, raw)


async def _answer(
    state: ServerState, secret: str, run_id: str, flow: CompiledFlow, wait: bool
) -> Response:
    run = await _settled_run(state, run_id, state.settings.trigger_wait_seconds if wait else 0)
    if wait and run.status == "succeeded":
        return await _respond(state, run, flow)
    if wait and run.status in ("failed", "cancelled"):
        return JSONResponse(
            {"detail": run.error, "run_id": run.id, "node_id": run.failed_node}, status_code=500
        )
    return JSONResponse(_status_json(state, secret, run), status_code=202)


async def _settled_run(state: ServerState, run_id: str, within: float) -> Run:
    """The run once it settles, or as it is after `within` seconds."""
    waiter = state.live.waiter(run_id)
    try:
        run = await _run(state, run_id)
        if within > 0 and run is not None and run.status in ("queued", "running"):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), within)
            run = await _run(state, run_id)
    finally:
        state.live.forget(run_id, waiter)
    assert run is not None
    return run


async def _respond(state: ServerState, run: Run, flow: CompiledFlow) -> Response:
    respond = next(n for n in flow.nodes.values() if isinstance(n.config, RespondConfig))
    assert isinstance(respond.config, RespondConfig)
    result = from_json(run.result)
    if isinstance(result, ImageRef):
        data = await state.runtime.blobs.get(result.sha256)
        return Response(
            data,
            status_code=respond.config.status_code,
            media_type=result.media_type,
            headers={"X-Plait-Run-Id": run.id},
        )
    body = Presenter(state.links, state.settings.public_origin).public(result)
    return JSONResponse(
        body, status_code=respond.config.status_code, headers={"X-Plait-Run-Id": run.id}
    )


def _status_json(state: ServerState, secret: str, run: Run) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "run_id": run.id,
        "status": run.status,
        "status_url": f"{state.settings.public_origin}/api/trigger/{secret}/runs/{run.id}",
    }
    if run.status == "succeeded":
        answer["result"] = Presenter(state.links, state.settings.public_origin).public(
            from_json(run.result)
        )
    if run.error:
        answer["error"] = run.error
        answer["node_id"] = run.failed_node
    return answer


async def _run(state: ServerState, run_id: str) -> Run | None:
    async with state.runtime.db.new_session() as session:
        return await run_store.get_run(session, run_id)
