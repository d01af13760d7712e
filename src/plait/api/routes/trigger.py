"""The published API: `POST /api/trigger/{secret}/{node_id}` and its status route (public)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from plait.api import schemas
from plait.api.auth import State
from plait.api.bodies import read_fields
from plait.api.errors import run_failure_status
from plait.api.present import Presenter
from plait.api.schemas import answers
from plait.api.state import ServerState
from plait.errors import Category
from plait.flows.validate import CompiledFlow
from plait.media.image_ref import ImageRef
from plait.nodes.http_trigger import HttpTriggerConfig
from plait.nodes.respond import RespondConfig
from plait.publishing.callbacks import checked_callback_url
from plait.publishing.calls import checked_idempotency_key, count_call, launch
from plait.publishing.inputs import trigger_inputs
from plait.publishing.outbox import Payload
from plait.publishing.outcome import Outcome, run_record, wait_outcome
from plait.store.flows import PublishedFlow

router = APIRouter(tags=["trigger"])

NOT_FOUND = "no published flow has this trigger; check the URL and its secret"
Wait = Annotated[
    bool,
    Query(description="false: answer 202 with a status URL at once, without waiting for the run"),
]
CallbackUrl = Annotated[
    str | None,
    Query(description="where to POST the run's outcome once it settles (HMAC-signed)"),
]

TRIGGER_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The run's result, with the Respond node's status code: its value as "
        "JSON, or the image it names (each published flow's own OpenAPI document, "
        "/api/flows/{flow_id}/openapi.json, describes the value)",
        "content": {
            "application/json": {"schema": {"description": "any JSON value"}},
            **schemas.IMAGE["responses"][200]["content"],
        },
    },
    202: {
        "description": "Still running (or `wait=false`): poll `status_url`",
        "model": schemas.TriggerStatus,
    },
}


@router.post("/api/trigger/{secret}/{node_id}", responses=TRIGGER_ANSWERS)
async def trigger(
    secret: str,
    node_id: str,
    request: Request,
    wait: Wait = True,
    callback_url: CallbackUrl = None,
) -> Response:
    """Run the published flow with the fields of the body; answer with its result."""
    state: ServerState = request.app.state.plait  # no dependency to solve per call
    published = await _published(state, secret)
    flow = None if published is None else state.compiled.of(published.hash, published.document)
    if published is None or flow is None or not _is_trigger(flow, node_id):
        raise HTTPException(404, NOT_FOUND)
    verdict = await count_call(state.limiter, published, node_id)
    within = state.settings.trigger_wait_seconds if wait and _responds(flow) else 0
    key = _idempotency_key(request)
    callback: str | None = None

    async def read_inputs() -> dict[str, Any]:
        nonlocal callback
        raw = await read_fields(request, state.settings.max_upload_bytes)
        callback = raw.pop("callback_url", None) or callback_url
        if callback is not None:
            callback = await checked_callback_url(state.runtime.http, str(callback))
        return await trigger_inputs(state.runtime, raw, flow, node_id)

    started = await launch(state, published, flow, node_id, key, read_inputs, awaited=within > 0)
    if callback is not None and started.is_new:
        await state.outbox.add(started.run_id, callback, secret)  # before the call is answered
    outcome = await wait_outcome(
        state.live, state.runtime.db, started, within, shared=state.relay.shared
    )
    answer = await _answer(state, secret, outcome, flow, waited=within > 0)
    answer.headers.update(verdict.headers())
    return answer


@router.get("/api/trigger/{secret}/{node_id}", include_in_schema=False, status_code=405)
async def trigger_with_get(secret: str, node_id: str) -> JSONResponse:
    """A trigger takes POST only (a browser's address bar sends GET): say so, with `Allow`."""
    return JSONResponse(
        {"detail": "a trigger URL takes POST, with its fields as JSON or multipart form data"},
        status_code=405,
        headers={"Allow": "POST"},
    )


@router.get("/api/trigger/{secret}/runs/{run_id}", **answers(schemas.TriggerStatus))
async def trigger_run_status(secret: str, run_id: str, state: State) -> dict[str, Any]:
    published = await _published(state, secret)
    run = await run_record(state.runtime.db, run_id)
    if published is None or run is None or run.flow_id != published.flow_id:
        raise HTTPException(404, NOT_FOUND)
    return _status_json(state, secret, Outcome.of_run(run))


async def _published(state: ServerState, secret: str) -> PublishedFlow | None:
    return await state.published.by_secret(secret)


def _is_trigger(flow: CompiledFlow, node_id: str) -> bool:
    node = flow.nodes.get(node_id)
    return node is not None and isinstance(node.config, HttpTriggerConfig)


def _responds(flow: CompiledFlow) -> bool:
    return any(isinstance(n.config, RespondConfig) for n in flow.nodes.values())


def _idempotency_key(request: Request) -> str | None:
    return checked_idempotency_key(request.headers.get("idempotency-key"))


async def _answer(
    state: ServerState, secret: str, outcome: Outcome, flow: CompiledFlow, *, waited: bool
) -> Response:
    """The run's answer if the caller waited for it, else (or if it has not settled) 202
    with its status: a caller that did not wait is answered alike however fast the run."""
    if waited and outcome.status == "succeeded":
        return await _respond(state, outcome, flow)
    if waited and outcome.status == "cancelled":
        return _cancelled(outcome)
    if waited and outcome.status == "failed":
        return _failed(outcome)
    return JSONResponse(_status_json(state, secret, outcome), status_code=202)


def _failed(outcome: Outcome) -> JSONResponse:
    """A failed run's answer, its status saying whose move it is (`run_failure_status`)."""
    body: dict[str, Any] = {
        "detail": outcome.detail,
        "run_id": outcome.run_id,
        "node_id": outcome.failed_node,
    }
    category = Category.of(outcome.error_category)
    status, headers = run_failure_status(category, outcome.retry_after)
    headers["X-Plait-Run-Id"] = outcome.run_id
    if category is not None:
        body["category"] = category.value
        body["fault"] = category.side
    return JSONResponse(body, status_code=status, headers=headers)


def _cancelled(outcome: Outcome) -> JSONResponse:
    """A run stopped on the server's side (an operator's cancel, the server stopping) is
    neither the caller's fault nor a fault of Plait's: 503, the run can be asked for again."""
    body = {
        "detail": f"run {outcome.run_id} was cancelled on the server (by an operator, or "
        "the server stopping) before it finished; nothing was made. Send the request again.",
        "run_id": outcome.run_id,
        "status": "cancelled",
    }
    return JSONResponse(body, status_code=503, headers={"X-Plait-Run-Id": outcome.run_id})


async def _respond(state: ServerState, outcome: Outcome, flow: CompiledFlow) -> Response:
    respond = next(n for n in flow.nodes.values() if isinstance(n.config, RespondConfig))
    assert isinstance(respond.config, RespondConfig)
    headers = {"X-Plait-Run-Id": outcome.run_id}
    status = respond.config.status_code
    if isinstance(outcome.value, ImageRef):
        data = await state.runtime.blobs.get(outcome.value.sha256)
        return Response(data, status, headers, media_type=outcome.value.media_type)
    body = state.presenter.public(outcome.value)
    return JSONResponse(body, status, headers)


def _status_json(state: ServerState, secret: str, outcome: Outcome) -> dict[str, Any]:
    return status_json(state.presenter, secret, outcome)


def callback_payload(presenter: Presenter) -> Payload:
    """The body a callback carries: the settled run's status, as the status route answers."""
    return lambda run, secret: status_json(presenter, secret, Outcome.of_run(run))


def status_json(presenter: Presenter, secret: str, outcome: Outcome) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "run_id": outcome.run_id,
        "status": outcome.status,
        "status_url": f"{presenter.origin}/api/trigger/{secret}/runs/{outcome.run_id}",
    }
    if outcome.status == "succeeded":
        answer["result"] = presenter.public(outcome.value)
    if outcome.error:
        answer["error"] = outcome.error
        answer["node_id"] = outcome.failed_node
    if outcome.error_category is not None:
        answer["category"] = outcome.error_category
    return answer
