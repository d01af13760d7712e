"""Repository functions for the callback outbox (`plait.publishing.outbox`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.claims import Claims
from plait.store.journal import Write
from plait.store.leases import CALLBACKS
from plait.store.tables import CallbackDelivery, Run

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
_SETTLED_RUN = ("succeeded", "failed", "cancelled")
_table: Table = CallbackDelivery.__table__  # type: ignore[assignment]


def add(run_id: str, url: str, sealed_secret: str, now: datetime) -> Write:
    """A callback to make once the run settles, due from `now` on."""
    row = {"run_id": run_id, "url": url, "secret": sealed_secret, "state": PENDING, "attempts": 0}

    def write(conn: Connection) -> None:
        conn.execute(insert(_table).values({**row, "next_attempt_at": now, "created_at": now}))

    return write


async def due(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Pending callbacks whose run has settled, whose next attempt is due, that no live
    process is delivering; oldest first."""
    query = (
        select(CallbackDelivery.id)
        .join(Run, Run.id == CallbackDelivery.run_id)
        .where(
            CallbackDelivery.state == PENDING,
            CallbackDelivery.next_attempt_at <= now,
            CALLBACKS.free(now),
            Run.status.in_(_SETTLED_RUN),
        )
        .order_by(CallbackDelivery.next_attempt_at)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def get(session: AsyncSession, delivery_id: int) -> tuple[CallbackDelivery, Run] | None:
    query = (
        select(CallbackDelivery, Run)
        .join(Run, Run.id == CallbackDelivery.run_id)
        .where(CallbackDelivery.id == delivery_id)
    )
    found = (await session.execute(query)).first()
    return None if found is None else (found[0], found[1])


async def settle(claims: Claims, delivery_id: int, owner: str, **fields: Any) -> bool:
    """Record an attempt's outcome and give the claim up, if `owner` still holds it."""
    statement = (
        update(_table)
        .where(_table.c.id == delivery_id, CALLBACKS.held_by(owner))
        .values(claim_owner=None, claim_expires=None, **fields)
    )
    return await claims.execute(statement) > 0
