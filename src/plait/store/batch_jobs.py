"""Repository functions for Gemini Batch API jobs (`batch_jobs`): journal writes, session reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.journal import Write
from plait.store.tables import BatchJob, utcnow

_jobs: Table = BatchJob.__table__  # type: ignore[assignment]


def add_job(
    batch_id: str, name: str, model: str, state: str, requests: list[dict[str, Any]]
) -> Write:
    def write(conn: Connection) -> None:
        now = utcnow()
        row = {"batch_id": batch_id, "name": name, "model": model, "state": state}
        conn.execute(
            insert(_jobs), {**row, "requests": requests, "submitted_at": now, "updated_at": now}
        )

    return write


def set_state(name: str, state: str) -> Write:
    def write(conn: Connection) -> None:
        statement = update(_jobs).where(_jobs.c.name == name)
        conn.execute(statement.values(state=state, updated_at=utcnow()))

    return write


async def jobs_of(session: AsyncSession, batch_id: str) -> list[BatchJob]:
    query = select(BatchJob).where(BatchJob.batch_id == batch_id).order_by(BatchJob.submitted_at)
    return list(await session.scalars(query))
