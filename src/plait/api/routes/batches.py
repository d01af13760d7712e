"""Batches from the API and the canvas: one flow version × the rows of a CSV / JSONL file.

Rows are sent as multipart: a part `rows` (the .csv or .jsonl file) and, for image
columns, one `files` part per image the rows name by file name (or the cells are http(s)
URLs). Estimating checks every row (422 naming row and column) and prices the batch;
creating checks again and starts only with `confirm_usd` at least the estimate.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.datastructures import FormData, UploadFile

from plait.api import schemas
from plait.api.auth import CurrentCaller, State
from plait.api.bodies import read_form
from plait.api.present import Presenter
from plait.api.routes.flows import MAX_VERSION, flow_or_404, parse_document
from plait.api.schemas import EVENTS, ZIP, answers
from plait.api.state import ServerState
from plait.batch.archive import batch_zip
from plait.batch.driver import create
from plait.batch.estimate import Estimate, estimate
from plait.batch.rows import Row, check_uploaded
from plait.batch.service import DEFAULT_CONCURRENCY, BatchBusy
from plait.engine.executor import entry_trigger
from plait.errors import InputError
from plait.flows.validate import CompiledFlow, compile_flow
from plait.nodes.http_trigger import trigger_config
from plait.store import batches as store
from plait.store import flows as flow_store
from plait.store.tables import Batch, BatchRow

router = APIRouter(prefix="/api", tags=["batches"])

MAX_FILES = 1000  # image parts sent with one rows file
MAX_CONCURRENCY = 64
STREAM_SECONDS = 15.0


def _rows_form(*extra: str) -> dict[str, Any]:
    """The multipart body in the OpenAPI document (the routes read it by hand, capped)."""
    fields: dict[str, Any] = {
        "rows": {"type": "string", "format": "binary", "description": "a .csv or .jsonl file"},
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "images that image cells name by file name",
        },
        "version": {"type": "integer", "minimum": 1},
        "trigger_id": {"type": "string"},
    }
    numbers = {name: {"type": "number", "minimum": 0} for name in extra}
    schema = {"type": "object", "required": ["rows"], "properties": fields | numbers}
    content = {"multipart/form-data": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


@dataclass(frozen=True)
class Checked:
    compiled: CompiledFlow
    version: int
    trigger_id: str | None
    rows: list[Row]


@router.post(
    "/flows/{flow_id}/batches/estimate",
    openapi_extra=_rows_form(),
    **answers(schemas.BatchEstimateAnswer),
)
async def estimate_batch(
    flow_id: str, request: Request, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    """Check the rows against a flow version and price them; nothing is stored or run."""
    form = await read_form(request, state.settings.max_upload_bytes, MAX_FILES + 1)
    checked = await _check(state, flow_id, form)
    return {
        "flow_id": flow_id,
        "flow_version": checked.version,
        "trigger_id": checked.trigger_id,
        "estimate": _estimate_json(_price(state, checked)),
    }


@router.post(
    "/flows/{flow_id}/batches",
    status_code=201,
    openapi_extra=_rows_form("confirm_usd", "budget_usd", "concurrency"),
    **answers(schemas.BatchSummary),
)
async def create_batch(
    flow_id: str, request: Request, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    """Check the rows, and start the batch if `confirm_usd` covers the estimate."""
    form = await read_form(request, state.settings.max_upload_bytes, MAX_FILES + 1)
    checked = await _check(state, flow_id, form)
    cost = _price(state, checked)
    _require_confirmation(cost, _number(form, "confirm_usd"))
    budget = _number(form, "budget_usd")
    concurrency = int(_number(form, "concurrency", MAX_CONCURRENCY) or DEFAULT_CONCURRENCY)
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
    rows_name = _rows_part(form).filename or "rows"
    batch_id = await create(
        state.runtime,
        checked.compiled,
        checked.rows,
        flow_path=Path(f"flow {flow_id} version {checked.version}"),
        rows_path=Path(rows_name),
        trigger_id=checked.trigger_id,
        out_dir=None,
        server={
            "flow_id": flow_id,
            "flow_version": checked.version,
            "budget_usd": budget,
            "concurrency": concurrency,
            "estimate_usd": cost.total_usd,
            "state": store.ACTIVE,
        },
    )
    await state.batches.start_new(await _batch_or_404(state, batch_id))
    return await _summary(state, batch_id)


@router.get("/batches", **answers(list[schemas.BatchSummary]))
async def list_batches(
    caller: CurrentCaller,
    state: State,
    flow_id: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[dict[str, Any]]:
    """Newest first, with progress counts."""
    async with state.runtime.db.new_session() as session:
        records = await store.list_batches(session, flow_id, limit)
    return await _summaries(state, [r.id for r in records])


@router.get("/batches/{batch_id}", **answers(schemas.BatchDetail))
async def read_batch(
    batch_id: str,
    caller: CurrentCaller,
    state: State,
    status: str | None = Query(default=None, description="Only rows in this status"),
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=500, ge=1, le=5000),
) -> dict[str, Any]:
    """Progress counts, cost, ETA, and a page of rows with status, error and cost."""
    summary = await _summary(state, batch_id)
    async with state.runtime.db.new_session() as session:
        rows = await store.rows_page(session, batch_id, offset, limit, status)
        results = await store.run_results(session, [r.run_id for r in rows if r.run_id])
    presenter = state.presenter
    return {**summary, "rows": [_row_json(r, presenter, results.get(r.run_id or "")) for r in rows]}


@router.get("/batches/{batch_id}/events", **EVENTS)
async def batch_events(batch_id: str, caller: CurrentCaller, state: State) -> StreamingResponse:
    """Server-sent events: the batch's progress now and after every change. The stream
    ends with the batch (`active` false), or after STREAM_SECONDS: a batch may run for
    hours, and an open stream would hold up the server's shutdown. Clients reconnect
    (EventSource does so by itself, after the `retry` it is sent)."""
    await _batch_or_404(state, batch_id)
    return StreamingResponse(
        _progress(state, batch_id, asyncio.get_running_loop().time() + STREAM_SECONDS),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _progress(state: ServerState, batch_id: str, deadline: float) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"
    loop = asyncio.get_running_loop()
    while True:
        changed = state.batches.changed(batch_id)  # taken before reading: no change is missed
        summary = await _summary(state, batch_id)
        yield f"data: {json.dumps(summary, default=str)}\n\n"
        if not summary["active"]:
            return
        try:
            await asyncio.wait_for(changed.wait(), deadline - loop.time())
        except TimeoutError:
            return  # the client reconnects


@router.post("/batches/{batch_id}/cancel", **answers(schemas.BatchSummary))
async def cancel_batch(batch_id: str, caller: CurrentCaller, state: State) -> dict[str, Any]:
    """Start no more rows and cancel those in flight; unsettled rows become skipped."""
    record = await _batch_or_404(state, batch_id)
    if not await state.batches.cancel(batch_id):
        raise HTTPException(409, f"batch '{batch_id}' is not running ({record.state or 'cli'})")
    return await _summary(state, batch_id)


class Rerun(BaseModel):
    confirm_usd: float | None = Field(default=None, ge=0)
    budget_usd: float | None = Field(default=None, ge=0)


@router.post("/batches/{batch_id}/retry", status_code=202, **answers(schemas.BatchSummary))
async def retry_failed(
    batch_id: str, body: Rerun, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    """Run the failed rows again (only those), keeping the outputs of nodes they finished."""
    return await _rerun(state, batch_id, body, (store.FAILED,))


@router.post("/batches/{batch_id}/resume", status_code=202, **answers(schemas.BatchSummary))
async def resume(batch_id: str, body: Rerun, caller: CurrentCaller, state: State) -> dict[str, Any]:
    """Run the rows skipped by the budget or a cancel (give a larger `budget_usd`), and any
    left unsettled."""
    return await _rerun(state, batch_id, body, (store.SKIPPED, store.PENDING, store.RUNNING))


@router.get("/batches/{batch_id}/results.zip", **ZIP)
async def download(batch_id: str, caller: CurrentCaller, state: State) -> StreamingResponse:
    """Every succeeded row's images and `manifest.csv` (one line per row), streamed."""
    await _batch_or_404(state, batch_id)
    return StreamingResponse(
        batch_zip(state.runtime.db, state.runtime.blobs, batch_id),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="batch-{batch_id[:8]}.zip"'},
    )


async def _rerun(
    state: ServerState, batch_id: str, body: Rerun, statuses: tuple[str, ...]
) -> dict[str, Any]:
    record = await _batch_or_404(state, batch_id)
    if record.flow_id is None:
        raise HTTPException(409, f"batch '{batch_id}' was started by `plait batch`; use the CLI")
    if state.batches.is_active(batch_id):
        raise HTTPException(409, f"batch '{batch_id}' is still running; wait or cancel it")
    async with state.runtime.db.new_session() as session:
        counts, _ = await store.status_counts(session, batch_id)
    rows = sum(counts[s] for s in statuses)
    if rows == 0:
        raise HTTPException(409, f"batch '{batch_id}' has no {' or '.join(statuses)} rows")
    compiled = await state.batches.compiled(record)
    cost = estimate(compiled, rows, free=state.runtime.backend == "preview")
    _require_confirmation(cost, body.confirm_usd)
    if body.budget_usd is not None:
        await state.runtime.db.journal.write(store.set_budget(batch_id, body.budget_usd))
        record = await _batch_or_404(state, batch_id)
    try:
        await state.batches.start(record, statuses)
    except BatchBusy as exc:
        raise HTTPException(409, str(exc)) from None
    return await _summary(state, batch_id)


async def _check(state: ServerState, flow_id: str, form: FormData) -> Checked:
    version = _number(form, "version", MAX_VERSION)
    async with state.runtime.db.new_session() as session:
        flow = await flow_or_404(session, flow_id)
        number = int(version) if version is not None else flow.current_version
        document = await flow_store.version_document(session, flow_id, number)
    if document is None:
        raise HTTPException(404, f"flow '{flow_id}' has no version {number}")
    compiled = compile_flow(parse_document(document), state.runtime.registry)
    trigger = form.get("trigger_id")
    trigger_id = entry_trigger(compiled, trigger if isinstance(trigger, str) and trigger else None)
    config = trigger_config(compiled, trigger_id)
    part = _rows_part(form)
    try:
        text = (await part.read()).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{part.filename}: the rows file is not UTF-8 text ({exc})") from None
    files = {
        (f.filename or ""): await f.read()
        for key, f in form.multi_items()
        if key == "files" and isinstance(f, UploadFile)
    }
    runtime = state.runtime
    rows = await check_uploaded(
        part.filename or "rows.csv", text, config, runtime.blobs, runtime.http, files
    )
    return Checked(compiled, number, trigger_id, rows)


def _rows_part(form: FormData) -> UploadFile:
    part = form.get("rows")
    if not isinstance(part, UploadFile):
        raise InputError("send the rows as a multipart file part named 'rows' (.csv or .jsonl)")
    return part


def _number(form: FormData, name: str, most: float = 1e9) -> float | None:
    """The form field `name` as a number from 0 to `most`; None when not given."""
    value = form.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(str(value))
    except ValueError:
        raise InputError(f"'{name}' must be a number, got '{value}'") from None
    if not 0 <= number <= most:  # also refuses nan and inf
        raise InputError(f"'{name}' must be a number from 0 to {most:g}, got '{value}'")
    return number


def _price(state: ServerState, checked: Checked) -> Estimate:
    free = state.runtime.backend == "preview"
    return estimate(checked.compiled, len(checked.rows), free=free)


def _require_confirmation(cost: Estimate, confirmed: float | None) -> None:
    if cost.total_usd <= 0:
        return
    if confirmed is None or confirmed + 1e-9 < round(cost.total_usd, 6):
        raise HTTPException(
            409,
            f"this batch is estimated at ${cost.total_usd:.4f}; send confirm_usd="
            f"{cost.total_usd:.6f} (or more) to start it",
        )


def _estimate_json(cost: Estimate) -> dict[str, Any]:
    return {
        "rows": cost.rows,
        "images_per_row": cost.images_per_row,
        "per_row_usd": cost.per_row_usd,
        "total_usd": round(cost.total_usd, 6),
        "free": cost.free,
        "description": cost.describe(),
        "lines": [
            {
                "node_id": line.node_id,
                "model": line.model,
                "image_size": line.image_size,
                "images": line.images,
                "price_usd": line.price_usd,
            }
            for line in cost.lines
        ],
    }


async def _batch_or_404(state: ServerState, batch_id: str) -> Batch:
    async with state.runtime.db.new_session() as session:
        record = await store.get_batch(session, batch_id)
    if record is None:
        raise HTTPException(404, f"no batch '{batch_id}'")
    return record


async def _summary(state: ServerState, batch_id: str) -> dict[str, Any]:
    summaries = await _summaries(state, [batch_id])
    if not summaries:
        raise HTTPException(404, f"no batch '{batch_id}'")
    return summaries[0]


async def _summaries(state: ServerState, batch_ids: list[str]) -> list[dict[str, Any]]:
    """Each batch and its progress, in order (a batch gone is left out). Whether one is
    active is read first: a batch seen inactive has written its final state and counts."""
    active = {i: (state.batches.is_active(i), state.batches.eta_seconds(i)) for i in batch_ids}
    async with state.runtime.db.new_session() as session:
        records = await store.batches_by_id(session, batch_ids)
        counts = await store.status_counts_of(session, list(records))
    return [_summary_json(records[i], *active[i], *counts[i]) for i in batch_ids if i in records]


def _summary_json(
    record: Batch, active: bool, eta: float | None, counts: dict[str, int], cost: float
) -> dict[str, Any]:
    settled = counts[store.SUCCEEDED] + counts[store.FAILED] + counts[store.SKIPPED]
    return {
        "id": record.id,
        "flow_id": record.flow_id,
        "flow_version": record.flow_version,
        "rows_file": record.rows_path,
        "source": "server" if record.flow_id is not None else "cli",
        "state": record.state if record.flow_id is not None else None,
        "active": active,
        "created_at": record.created_at,
        "total_rows": record.total_rows,
        "counts": counts,
        "settled": settled,
        "cost_usd": cost,
        "estimate_usd": record.estimate_usd,
        "budget_usd": record.budget_usd,
        "concurrency": record.concurrency,
        "eta_seconds": eta,
    }


def _row_json(row: BatchRow, presenter: Presenter, result: Any) -> dict[str, Any]:
    """A row, with links to its input images and to the images its run made."""
    return {
        "number": row.number,
        "given": row.given,
        "status": row.status,
        "error": row.error,
        "cost_usd": row.cost_usd,
        "attempts": row.attempts,
        "run_id": row.run_id,
        "thumbnails": {
            "inputs": presenter.thumbnails(row.inputs),
            "outputs": presenter.thumbnails(result),
        },
    }
