"""The published API: `POST /api/trigger/{secret}/{node_id}` and its status route (public)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from plait.api import schemas
from plait.api.auth import State
from plait.api.bodies import image_value, read_fields, refuse_misplaced_files
from plait.api.errors import run_failure_status
from plait.api.present import Presenter
from plait.api.schemas import answers
from plait.api.state import ServerState
from plait.engine.runner import RunRequest
from plait.engine.state import RunResult, RunStatus
from plait.engine.values import from_json
from plait.errors import Category
from plait.flows.validate import CompiledFlow
from plait.media.image_ref import ImageRef
from plait.nodes.http_trigger import HttpTriggerConfig, coerce_inputs
from plait.nodes.respond import RespondConfig
from plait.publishing.budgets import BudgetExceeded, Reservation
from plait.publishing.callbacks import checked_callback_url
from plait.publishing.launch import Started
from plait.publishing.outbox import Payload
from plait.publishing.ratelimit import Verdict
from plait.store import runs as run_store
from plait.store.flows import PublishedFlow
from plait.store.tables import Run

router = APIRouter(tags=["trigger"])

NOT_FOUND = "no published flow has this trigger; check the URL and its secret"
_MAX_IDEMPOTENCY_KEY = 255
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
    verdict = await count_call(state, published, node_id)
    within = state.settings.trigger_wait_seconds if wait and _responds(flow) else 0
    key = _idempotency_key(request)
    callback: str | None = None

    async def read_inputs() -> dict[str, Any]:
        nonlocal callback
        raw = await read_fields(request, state.settings.max_upload_bytes)
        callback = raw.pop("callback_url", None) or callback_url
        if callback is not None:
            callback = await checked_callback_url(state.runtime.http, str(callback))
        return await trigger_inputs(state, raw, flow, node_id)

    started = await launch(state, published, flow, node_id, key, read_inputs, awaited=within > 0)
    if callback is not None and started.is_new:  # recorded before the call is answered
        await state.outbox.add(started.run_id, callback, secret)
    outcome = await wait_outcome(state, started, within)
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
    run = await _run(state, run_id)
    if published is None or run is None or run.flow_id != published.flow_id:
        raise HTTPException(404, NOT_FOUND)
    return _status_json(state, secret, Outcome.of_run(run))


async def count_call(state: ServerState, published: PublishedFlow, node_id: str) -> Verdict:
    """Count a call against the trigger's rate limit; 429 (HTTPException) when over it."""
    verdict = await state.limiter.hit(
        "trigger", f"{published.flow_id}:{node_id}", published.rate_limit_per_minute
    )
    if not verdict.allowed:
        raise HTTPException(
            429,
            f"over this trigger's limit of {verdict.limit} requests per minute; "
            f"retry after {verdict.headers()['Retry-After']} s",
            headers=verdict.headers(),
        )
    return verdict


async def launch(
    state: ServerState,
    published: PublishedFlow,
    flow: CompiledFlow,
    node_id: str,
    key: str | None,
    read_inputs: Callable[[], Awaitable[dict[str, Any]]],
    *,
    awaited: bool,
) -> Started:
    """Hold the run's estimate against the daily budget, read and check the call's inputs,
    then start its run (`BudgetExceeded` or the inputs' errors start nothing)."""
    reservation = await reserve(state, published, flow, key)
    watch = None if reservation is None else partial(reservation.settle_when_done, state.live)
    try:
        started = await state.launcher.start(
            RunRequest(
                flow,
                await read_inputs(),
                source="trigger",
                flow_id=published.flow_id,
                trigger_id=node_id,
                flow_version=published.version,
                idempotency_key=key,
            ),
            awaited=awaited,
            on_queued=watch,
        )
    except BaseException:
        if reservation is not None:
            reservation.cancel()
        raise
    if reservation is not None and not started.is_new:
        reservation.cancel()  # a repeated Idempotency-Key starts nothing
    return started


async def _published(state: ServerState, secret: str) -> PublishedFlow | None:
    return await state.published.by_secret(secret)


async def reserve(
    state: ServerState, published: PublishedFlow, flow: CompiledFlow, key: str | None
) -> Reservation | None:
    """Hold this run's estimate against the flow's daily budget; `BudgetExceeded` (429)
    when it would go over, unless the call repeats an Idempotency-Key (it spends nothing)."""
    free = state.runtime.backend == "preview"
    try:
        return await state.budgets.reserve(
            published.flow_id, published.daily_budget_usd, flow, free=free
        )
    except BudgetExceeded:
        if key is None or await state.launcher.existing(published.flow_id, key) is None:
            raise
        return None


def _is_trigger(flow: CompiledFlow, node_id: str) -> bool:
    node = flow.nodes.get(node_id)
    return node is not None and isinstance(node.config, HttpTriggerConfig)


def _responds(flow: CompiledFlow) -> bool:
    return any(isinstance(n.config, RespondConfig) for n in flow.nodes.values())


def _idempotency_key(request: Request) -> str | None:
    return checked_idempotency_key(request.headers.get("idempotency-key"))


def checked_idempotency_key(key: str | None) -> str | None:
    if key is not None and not 0 < len(key) <= _MAX_IDEMPOTENCY_KEY:
        raise HTTPException(400, f"Idempotency-Key must be 1 to {_MAX_IDEMPOTENCY_KEY} characters")
    return key


async def trigger_inputs(
    state: ServerState, raw: dict[str, Any], flow: CompiledFlow, node_id: str
) -> dict[str, Any]:
    config = flow.nodes[node_id].config
    assert isinstance(config, HttpTriggerConfig)
    refuse_misplaced_files(raw, {f.name for f in config.fields if f.type == "image"})
    for field in config.fields:
        if field.type == "image" and raw.get(field.name) is not None:
            raw[field.name] = await image_value(
                field.name, raw[field.name], state.runtime, state.settings.max_upload_bytes
            )
    return coerce_inputs(config, raw)


@dataclass(frozen=True)
class Outcome:
    """Where a run stands, from its in-memory result or its record."""

    run_id: str
    status: str
    value: Any = None
    error: str | None = None
    failed_node: str | None = None
    error_category: str | None = None
    retry_after: float | None = None  # known while the run is in memory
    duration_ms: float | None = None
    cost_usd: float = 0.0

    @property
    def settled(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")

    @classmethod
    def of_result(cls, result: RunResult) -> Outcome:
        succeeded = result.status == RunStatus.SUCCEEDED
        value = result.result() if succeeded else None
        failure = result.failure
        return cls(
            result.run_id,
            result.status.value,
            value,
            result.error,
            result.failed_node,
            failure.error_category if failure else None,
            failure.retry_after if failure else None,
            result.duration_ms,
            result.usage.cost_usd,
        )

    @classmethod
    def of_run(cls, run: Run) -> Outcome:
        return cls(
            run.id, run.status, from_json(run.result), run.error, run.failed_node,
            run.error_category, None, run.duration_ms, run.cost_usd,
        )  # fmt: skip

    @property
    def detail(self) -> str | None:
        """A failed run's message, naming the node that failed."""
        node = self.failed_node
        return f"node '{node}': {self.error}" if node else self.error


async def wait_outcome(state: ServerState, started: Started, within: float) -> Outcome:
    """The run's outcome, waiting up to `within` seconds for it to settle."""
    run_id = started.run_id
    if started.ran:
        if started.result is not None:
            return Outcome.of_result(started.result)
        return Outcome.of_run(await _existing_run(state, run_id))
    waiter = state.live.waiter(run_id)
    try:
        if within > 0 and not started.is_new:  # a repeated Idempotency-Key: may be long done
            recorded = Outcome.of_run(await _existing_run(state, run_id))
            if recorded.settled:
                return recorded
        if within > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    result = await waiter
                if result is not None:
                    return Outcome.of_result(result)
        return Outcome.of_run(await _existing_run(state, run_id))
    finally:
        state.live.forget(run_id, waiter)


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


async def _run(state: ServerState, run_id: str) -> Run | None:
    async with state.runtime.db.new_session() as session:
        return await run_store.get_run(session, run_id)


async def _existing_run(state: ServerState, run_id: str) -> Run:
    run = await _run(state, run_id)
    assert run is not None  # submitted before it is looked for
    return run
