"""Publishing a flow version as its HTTP API: publish, roll back, rotate, unpublish."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from plait.api import schemas
from plait.api.auth import CurrentCaller, State
from plait.api.publication import publication_json
from plait.api.published_api import examples, openapi_document
from plait.api.routes.flows import MAX_VERSION, flow_or_404, load_flow_record, version_flow
from plait.api.schemas import answers
from plait.crypto.tokens import digest, hint, new_secret
from plait.flows.servable import check_servable
from plait.store import flows as flow_store
from plait.store.tables import FlowRecord, utcnow

router = APIRouter(prefix="/api/flows/{flow_id}", tags=["publishing"])


_MAX_BUDGET_USD = 1_000_000.0
_BUDGET = "Most the triggers may spend per UTC day, in USD (recorded run costs); null: no cap"


class SettingsBody(BaseModel):
    """What callers of the published API may use; a field left out is unchanged."""

    rate_limit_per_minute: int | None = Field(default=None, gt=0, le=1_000_000)
    daily_budget_usd: float | None = Field(
        default=None, ge=0, le=_MAX_BUDGET_USD, description=_BUDGET
    )

    mcp: bool | None = Field(
        default=None, description="Offer the flow to MCP clients as a tool (at /mcp)"
    )

    def apply(self, record: FlowRecord) -> None:
        if self.mcp is not None:
            record.mcp = self.mcp
        if self.rate_limit_per_minute is not None:
            record.rate_limit_per_minute = self.rate_limit_per_minute
        if "daily_budget_usd" in self.model_fields_set:
            record.daily_budget_usd = self.daily_budget_usd


class PublishBody(SettingsBody):
    version: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="The version to serve; newest if null"
    )


class RotateBody(BaseModel):
    grace_seconds: int = Field(default=3600, ge=0, le=30 * 86400)


@router.post("/publish", **answers(schemas.Publication))
async def publish(
    flow_id: str, body: PublishBody, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    record = await load_flow_record(state, flow_id)
    version = body.version or record.current_version
    check_servable(await version_flow(state, flow_id, version), version, state.runtime.registry)
    secret = None
    async with state.runtime.db.new_session() as session, session.begin():
        record = await flow_or_404(session, flow_id)
        body.apply(record)
        await flow_store.publish(session, flow_id, version)
        if not await flow_store.live_secrets(session, flow_id):
            secret = new_secret()
            await flow_store.add_secret(session, flow_id, digest(secret), hint(secret), None)
        answer = await publication_json(session, state, record, secret)
    await state.published.changed()
    assert answer is not None
    return answer


@router.patch("/publication", **answers(schemas.Publication))
async def change_publication(
    flow_id: str, body: SettingsBody, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    """Change the rate limit, the daily budget or MCP without publishing another version."""
    async with state.runtime.db.new_session() as session, session.begin():
        record = await flow_or_404(session, flow_id)
        if await flow_store.get_publication(session, flow_id) is None:
            raise HTTPException(404, f"flow '{flow_id}' is not published; publish it first")
        body.apply(record)
        answer = await publication_json(session, state, record)
    await state.published.changed()
    assert answer is not None
    return answer


@router.post("/unpublish", status_code=204)
async def unpublish(flow_id: str, caller: CurrentCaller, state: State) -> None:
    await load_flow_record(state, flow_id)
    async with state.runtime.db.new_session() as session, session.begin():
        await flow_store.unpublish(session, flow_id)
    await state.published.changed()


@router.post("/rotate-secret", **answers(schemas.Publication | schemas.SecretRotated))
async def rotate_secret(
    flow_id: str, body: RotateBody, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    secret = new_secret()
    async with state.runtime.db.new_session() as session, session.begin():
        record = await flow_or_404(session, flow_id)
        retire_at = utcnow() + timedelta(seconds=body.grace_seconds)
        await flow_store.add_secret(session, flow_id, digest(secret), hint(secret), retire_at)
        answer = await publication_json(session, state, record, secret)
    await state.published.changed()
    if answer is None:
        return {"flow_id": flow_id, "secret": secret, "version": None, "triggers": []}
    return answer


@router.get("/publication", **answers(schemas.Publication))
async def read_publication(flow_id: str, caller: CurrentCaller, state: State) -> dict[str, Any]:
    async with state.runtime.db.new_session() as session:
        answer = await publication_json(session, state, await flow_or_404(session, flow_id))
    if answer is None:
        raise HTTPException(404, f"flow '{flow_id}' is not published")
    return answer


@router.get("/openapi.json", **answers(schemas.OpenApiDocument))
async def published_openapi(flow_id: str, caller: CurrentCaller, state: State) -> dict[str, Any]:
    flow, version = await _published_flow(state, flow_id)
    return openapi_document(state, flow_id, flow, version)


@router.get("/examples", **answers(schemas.CodeExamples))
async def published_examples(flow_id: str, caller: CurrentCaller, state: State) -> dict[str, str]:
    flow, _ = await _published_flow(state, flow_id)
    return examples(state, flow)


async def _published_flow(state: State, flow_id: str) -> tuple[Any, int]:
    async with state.runtime.db.new_session() as session:
        await flow_or_404(session, flow_id)
        publication = await flow_store.get_publication(session, flow_id)
    if publication is None:
        raise HTTPException(404, f"flow '{flow_id}' is not published")
    return await version_flow(state, flow_id, publication.version), publication.version
