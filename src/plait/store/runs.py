"""Repository functions for runs and their node runs. Values arrive JSON-ready."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.leases import RUNS
from plait.store.tables import NodeRun, Run


async def get_run(session: AsyncSession, run_id: str) -> Run | None:
    return await session.get(Run, run_id)


IN_FLIGHT = "running"  # a node row marking a paid call under way (`run_writes.mark_in_flight`)


async def node_runs(session: AsyncSession, run_id: str) -> list[NodeRun]:
    """The run's settled nodes (not the marks of calls under way), in the order recorded."""
    query = (
        select(NodeRun)
        .where(NodeRun.run_id == run_id, NodeRun.status != IN_FLIGHT)
        .order_by(NodeRun.id)
    )
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


RUNNABLE = ("queued", "running")


def claimable(now: datetime) -> ColumnElement[bool]:
    """A run a worker may take: unsettled, not a batch's (its batch runs it), and nobody's
    lease holds it (never claimed, released, or its owner stopped beating)."""
    lease_ran_out = and_(Run.lease_expires.is_not(None), Run.lease_expires < now)
    never_claimed = and_(Run.status == "queued", Run.lease_owner.is_(None))
    return and_(Run.status.in_(RUNNABLE), Run.source != "batch", or_(lease_ran_out, never_claimed))


async def claimable_runs(
    session: AsyncSession, now: datetime, limit: int, queued_before: datetime | None = None
) -> list[str]:
    """Ids of runs a worker may take, oldest first. `queued_before`: only never-claimed
    runs queued before then (the reaper leaves younger ones to the queue they are in)."""
    query = select(Run.id).where(claimable(now)).order_by(Run.created_at).limit(limit)
    if queued_before is not None:
        query = query.where(or_(Run.lease_expires.is_not(None), Run.created_at < queued_before))
    return list(await session.scalars(query))


async def in_flight_nodes(session: AsyncSession, run_id: str) -> list[str]:
    """Nodes whose paid call was under way when the run's last owner stopped."""
    query = select(NodeRun.node_id).where(NodeRun.run_id == run_id, NodeRun.status == IN_FLIGHT)
    return list(await session.scalars(query))


async def succeeded_outputs(session: AsyncSession, run_id: str) -> dict[str, dict[str, Any]]:
    """Outputs of the run's nodes that finished: a resumed run does not execute them again."""
    query = select(NodeRun.node_id, NodeRun.outputs).where(
        NodeRun.run_id == run_id, NodeRun.status == "succeeded"
    )
    return {node_id: dict(outputs) for node_id, outputs in (await session.execute(query)).all()}


CANCELLED_BEFORE_START = {"status": "cancelled", "error": "cancelled before it started"}


async def cancel_queued(session: AsyncSession, run_id: str, now: datetime, owner: str) -> bool:
    """Mark a run that has not started cancelled, by one conditional UPDATE: only while it
    is queued and no worker's lease holds it (a worker claims it the same way, so of the
    two only one wins), or `owner`'s does: the caller's process, that keeps it from
    starting (`Worker.hold_back`). False if a worker took it, or it started or settled."""
    query = (
        update(Run)
        .where(Run.id == run_id, Run.status == "queued", or_(RUNS.free(now), RUNS.held_by(owner)))
        .values(**CANCELLED_BEFORE_START, finished_at=now, lease_owner=None, lease_expires=None)
        .execution_options(synchronize_session=False)
    )
    result: Any = await session.execute(query)
    return bool(result.rowcount)


async def release_queued(session: AsyncSession, owner: str, now: datetime) -> int:
    """Give up `owner`'s claims on runs still queued (created claimed for its own queue, or
    claimed and stopped before they started): any process may take them at once. How
    many."""
    query = (
        update(Run)
        .where(Run.status == "queued", RUNS.held_by(owner))
        .values(RUNS.given_up(now))
        .execution_options(synchronize_session=False)
    )
    result: Any = await session.execute(query)
    return int(result.rowcount)
