"""Claims on rows (runs, batches, callback deliveries) by conditional UPDATE: a process owns
a row while `<owner column>` names it and `<expiry column>` is in the future. Whoever's
UPDATE matches first wins; every other process sees 0 rows changed and leaves the row be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, update

from plait.store.claims import Claims
from plait.store.tables import Batch, CallbackDelivery, Run


@dataclass(frozen=True)
class Leased:
    """A table whose rows are claimed: its key, owner and expiry columns."""

    table: Table
    owner: str
    expires: str

    def free(self, now: datetime) -> ColumnElement[bool]:
        """Nobody holds the row, or its holder's claim ran out."""
        owner, expires = self.table.c[self.owner], self.table.c[self.expires]
        return or_(owner.is_(None), expires.is_(None), expires < now)

    def held_by(self, owner: str) -> ColumnElement[bool]:
        return self.table.c[self.owner] == owner


RUNS = Leased(Run.__table__, "lease_owner", "lease_expires")  # type: ignore[arg-type]
BATCHES = Leased(Batch.__table__, "lease_owner", "lease_expires")  # type: ignore[arg-type]
CALLBACKS = Leased(CallbackDelivery.__table__, "claim_owner", "claim_expires")  # type: ignore[arg-type]


async def claim(
    claims: Claims,
    leased: Leased,
    key: Any,
    owner: str,
    now: datetime,
    until: datetime,
    *condition: ColumnElement[bool],
) -> bool:
    """Take the row if it is free (and meets `condition`): one conditional UPDATE."""
    table = leased.table
    statement = (
        update(table)
        .where(table.c.id == key, leased.free(now), *condition)
        .values({leased.owner: owner, leased.expires: until})
    )
    return await claims.execute(statement) > 0


async def extend(claims: Claims, leased: Leased, key: Any, owner: str, until: datetime) -> bool:
    """Push the claim's expiry on; False if `owner` no longer holds the row."""
    table = leased.table
    statement = (
        update(table)
        .where(table.c.id == key, leased.held_by(owner))
        .values({leased.expires: until})
    )
    return await claims.execute(statement) > 0


async def release(claims: Claims, leased: Leased, key: Any, owner: str, now: datetime) -> bool:
    """Give the row up at once (its claim expires now): any process may take it over."""
    table = leased.table
    statement = (
        update(table)
        .where(and_(table.c.id == key, leased.held_by(owner)))
        .values({leased.owner: None, leased.expires: now})
    )
    return await claims.execute(statement) > 0
