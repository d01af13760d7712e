"""Repository functions for runs and their node runs. Values arrive JSON-ready."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.tables import FlowDocument, NodeRun, Run, utcnow


async def save_document(session: AsyncSession, digest: str, document: dict[str, Any]) -> None:
    """Store a flow document under its content hash, once."""
    if await session.get(FlowDocument, digest) is None:
        session.add(FlowDocument(hash=digest, document=document))
        await session.flush()


async def create_run(
    session: AsyncSession,
    *,
    flow_hash: str,
    inputs: dict[str, Any],
    source: str,
    flow_id: str | None = None,
    trigger_id: str | None = None,
) -> str:
    """Record a run as queued, before anything executes; returns its id."""
    run_id = uuid.uuid4().hex
    session.add(
        Run(
            id=run_id,
            flow_hash=flow_hash,
            flow_id=flow_id,
            trigger_id=trigger_id,
            source=source,
            status="queued",
            inputs=inputs,
        )
    )
    await session.flush()
    return run_id


async def mark_running(session: AsyncSession, run_id: str, backend: str) -> None:
    run = await _run(session, run_id)
    run.status, run.started_at, run.backend = "running", utcnow(), backend


async def record_node(session: AsyncSession, run_id: str, row: dict[str, Any]) -> None:
    """Insert or update one node run (called as each node settles: a checkpoint)."""
    existing = await session.scalar(
        select(NodeRun).where(NodeRun.run_id == run_id, NodeRun.node_id == row["node_id"])
    )
    if existing is None:
        session.add(NodeRun(run_id=run_id, **row))
    else:
        for key, value in row.items():
            setattr(existing, key, value)
    await session.flush()


async def finish_run(session: AsyncSession, run_id: str, fields: dict[str, Any]) -> None:
    run = await _run(session, run_id)
    for key, value in fields.items():
        setattr(run, key, value)
    run.finished_at = utcnow()


async def get_run(session: AsyncSession, run_id: str) -> Run | None:
    return await session.get(Run, run_id)


async def node_runs(session: AsyncSession, run_id: str) -> list[NodeRun]:
    query = select(NodeRun).where(NodeRun.run_id == run_id).order_by(NodeRun.id)
    return list(await session.scalars(query))


async def _run(session: AsyncSession, run_id: str) -> Run:
    run = await session.get(Run, run_id)
    if run is None:
        raise LookupError(f"run {run_id} does not exist")
    return run
