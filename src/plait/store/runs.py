"""Repository functions for runs and their node runs. Values arrive JSON-ready."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.tables import NodeRun, Run, utcnow


async def get_run(session: AsyncSession, run_id: str) -> Run | None:
    return await session.get(Run, run_id)


async def node_runs(session: AsyncSession, run_id: str) -> list[NodeRun]:
    query = select(NodeRun).where(NodeRun.run_id == run_id).order_by(NodeRun.id)
    return list(await session.scalars(query))


async def list_runs(session: AsyncSession, flow_id: str | None, limit: int) -> list[Run]:
    query = select(Run).order_by(Run.created_at.desc()).limit(limit)
    if flow_id is not None:
        query = query.where(Run.flow_id == flow_id)
    return list(await session.scalars(query))


async def run_by_idempotency_key(session: AsyncSession, flow_id: str, key: str) -> Run | None:
    return await session.scalar(
        select(Run).where(Run.flow_id == flow_id, Run.idempotency_key == key)
    )


async def unfinished_runs(session: AsyncSession) -> list[Run]:
    """Runs accepted but not settled: what a restart must pick up again."""
    query = select(Run).where(Run.status.in_(("queued", "running"))).order_by(Run.created_at)
    return list(await session.scalars(query))


async def succeeded_outputs(session: AsyncSession, run_id: str) -> dict[str, dict[str, Any]]:
    """Outputs of the run's nodes that finished: a resumed run does not execute them again."""
    query = select(NodeRun.node_id, NodeRun.outputs).where(
        NodeRun.run_id == run_id, NodeRun.status == "succeeded"
    )
    return {node_id: dict(outputs) for node_id, outputs in (await session.execute(query)).all()}


async def cancel_queued(session: AsyncSession, run_id: str) -> bool:
    """Mark a run that has not started cancelled; False if it already started or settled."""
    run = await session.get(Run, run_id)
    if run is None or run.status != "queued":
        return False
    run.status, run.error, run.finished_at = "cancelled", "cancelled before it started", utcnow()
    return True
