"""Flows and their immutable versions: create, list, read, save, delete, diff, restore."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from plait.api import schemas
from plait.api.auth import CurrentCaller, State
from plait.api.errors import problem_json
from plait.api.publication import publication_json
from plait.api.schemas import answers
from plait.errors import FlowInvalid, Problem
from plait.flows.diff import diff_flows
from plait.flows.loader import flow_from_document
from plait.flows.model import Flow
from plait.flows.servable import serving_problems
from plait.store import flows as flow_store
from plait.store.tables import FlowRecord

router = APIRouter(prefix="/api/flows", tags=["flows"])

MAX_VERSION = 2**31 - 1  # bounded so that no number overflows SQLite's INTEGER (a 500)
Number = Annotated[int, Path(ge=1, le=MAX_VERSION, description="A version number")]
VersionQuery = Annotated[int, Query(ge=1, le=MAX_VERSION, description="A version number")]


class DocumentBody(BaseModel):
    document: dict[str, Any]
    message: str | None = Field(
        default=None, max_length=500, description="What changed, shown in the versions list"
    )


def summary(flow: FlowRecord, published_version: int | None) -> dict[str, Any]:
    return {
        "id": flow.id,
        "name": flow.name,
        "description": flow.description,
        "version": flow.current_version,
        "created_at": flow.created_at,
        "updated_at": flow.updated_at,
        "published_version": published_version,
        "rate_limit_per_minute": flow.rate_limit_per_minute,
    }


def parse_document(document: dict[str, Any]) -> Flow:
    """A well-formed flow document (its nodes may still have problems: drafts may be partial)."""
    return flow_from_document(document)


async def flow_or_404(session: AsyncSession, flow_id: str) -> FlowRecord:
    flow = await flow_store.get_flow(session, flow_id)
    if flow is None:
        raise HTTPException(404, f"no flow '{flow_id}'")
    return flow


async def load_flow_record(state: State, flow_id: str) -> FlowRecord:
    async with state.runtime.db.new_session() as session:
        return await flow_or_404(session, flow_id)


async def detail(state: State, flow_id: str) -> dict[str, Any]:
    async with state.runtime.db.new_session() as session:
        flow = await flow_or_404(session, flow_id)
        document = await flow_store.version_document(session, flow_id, flow.current_version)
        publication = await publication_json(session, state, flow)
    return {
        **summary(flow, None if publication is None else publication["version"]),
        "document": document,
        "publication": publication,
    }


@router.get("", **answers(list[schemas.FlowSummary]))
async def list_flows(caller: CurrentCaller, state: State) -> list[dict[str, Any]]:
    async with state.runtime.db.new_session() as session:
        flows = await flow_store.list_flows(session)
        published = await flow_store.publications(session, [f.id for f in flows])
    return [summary(f, published.get(f.id)) for f in flows]


@router.post("", status_code=201, **answers(schemas.FlowDetail))
async def create_flow(body: DocumentBody, caller: CurrentCaller, state: State) -> dict[str, Any]:
    """A new flow; the document's `id`, if it has one, becomes the flow's (409 if taken)."""
    flow = parse_document(body.document)
    async with state.runtime.db.new_session() as session, session.begin():
        if flow.id is not None and await flow_store.get_flow(session, flow.id) is not None:
            raise HTTPException(
                409, f"flow '{flow.id}' exists: save a new version with PUT /api/flows/{flow.id}"
            )
        record = await flow_store.create_flow(
            session,
            caller.user.id,
            flow.name or "Untitled",
            state.settings.rate_limit_per_minute,
            flow.id,
        )
        await _save(session, record, flow, caller, body.message)
    return await detail(state, record.id)


@router.get("/{flow_id}", **answers(schemas.FlowDetail))
async def read_flow(flow_id: str, caller: CurrentCaller, state: State) -> dict[str, Any]:
    return await detail(state, flow_id)


@router.put("/{flow_id}", **answers(schemas.FlowDetail))
async def save_flow(
    flow_id: str, body: DocumentBody, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    flow = parse_document(body.document)
    if flow.id is not None and flow.id != flow_id:
        raise HTTPException(422, f"the document is flow '{flow.id}', not '{flow_id}'")
    async with state.runtime.db.new_session() as session, session.begin():
        record = await flow_or_404(session, flow_id)
        await _save(session, record, flow, caller, body.message)
    return await detail(state, flow_id)


@router.delete("/{flow_id}", status_code=204)
async def delete_flow(flow_id: str, caller: CurrentCaller, state: State) -> None:
    await load_flow_record(state, flow_id)
    async with state.runtime.db.new_session() as session, session.begin():
        await flow_store.delete_flow(session, flow_id)
    await state.published.changed()


@router.get("/{flow_id}/versions", **answers(list[schemas.VersionSummary]))
async def list_versions(flow_id: str, caller: CurrentCaller, state: State) -> list[dict[str, Any]]:
    await load_flow_record(state, flow_id)
    async with state.runtime.db.new_session() as session:
        versions = await flow_store.list_versions(session, flow_id)
        documents = await flow_store.version_documents(session, flow_id)
    problems = {
        digest: [problem_json(p) for p in _serving_problems(state, document)]
        for digest, document in documents.items()
    }
    return [
        {
            "number": v.number,
            "hash": v.hash,
            "created_at": v.created_at,
            "created_by": v.created_by,
            "message": v.message,
            "publishable": not problems.get(v.hash, True),
            "problems": problems.get(v.hash, []),
        }
        for v in versions
    ]


def _serving_problems(state: State, document: dict[str, Any]) -> list[Problem]:
    try:
        return serving_problems(flow_from_document(document), state.runtime.registry)
    except FlowInvalid as invalid:
        return invalid.problems


@router.get("/{flow_id}/versions/{number}", **answers(schemas.VersionDetail))
async def read_version(
    flow_id: str, number: Number, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    async with state.runtime.db.new_session() as session:
        version = await flow_store.get_version(session, flow_id, number)
        document = await flow_store.version_document(session, flow_id, number)
    if version is None or document is None:
        raise HTTPException(404, f"flow '{flow_id}' has no version {number}")
    return {
        "number": version.number,
        "hash": version.hash,
        "created_at": version.created_at,
        "message": version.message,
        "document": document,
    }


@router.get("/{flow_id}/diff", **answers(schemas.FlowDiff))
async def diff_versions(
    flow_id: str, a: VersionQuery, b: VersionQuery, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    first, second = await version_flow(state, flow_id, a), await version_flow(state, flow_id, b)
    return {"a": a, "b": b, **diff_flows(first, second)}


@router.post("/{flow_id}/versions/{number}/restore", **answers(schemas.FlowDetail))
async def restore_version(
    flow_id: str, number: Number, caller: CurrentCaller, state: State
) -> dict[str, Any]:
    flow = await version_flow(state, flow_id, number)
    async with state.runtime.db.new_session() as session, session.begin():
        record = await flow_or_404(session, flow_id)
        await _save(session, record, flow, caller)
    return await detail(state, flow_id)


async def version_flow(state: State, flow_id: str, number: int) -> Flow:
    async with state.runtime.db.new_session() as session:
        document = await flow_store.version_document(session, flow_id, number)
    if document is None:
        raise HTTPException(404, f"flow '{flow_id}' has no version {number}")
    try:
        return flow_from_document(document)
    except FlowInvalid:  # stored documents parsed when saved; this means a format change
        raise HTTPException(500, f"version {number} of flow '{flow_id}' cannot be read") from None


async def _save(
    session: AsyncSession,
    record: FlowRecord,
    flow: Flow,
    caller: CurrentCaller,
    message: str | None = None,
) -> int:
    content = flow.without_id()
    return await flow_store.save_version(
        session, record, content.content_hash(), content.to_document(), caller.user.email, message
    )
