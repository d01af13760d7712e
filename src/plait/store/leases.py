"""Claims on rows (runs, batches, callback deliveries) by conditional UPDATE: a process owns
a row while `<owner column>` names it and `<expiry column>` is in the future. Whoever's
UPDATE matches first wins; every other process sees 0 rows changed and leaves the row be.

The statements are built once per table, with bound parameters (a worker claims every run
it takes: building and compiling a statement per claim cost more than executing it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Table, Update, bindparam, or_, true, update

from plait.store.claims import Claims
from plait.store.tables import Batch, CallbackDelivery, Run


@dataclass(frozen=True)
class Leased:
    """A table whose rows are claimed: its owner and expiry columns, and what else a row
    must be to be claimed (a run not settled, a callback not delivered)."""

    table: Table
    owner: str
    expires: str
    claimable: ColumnElement[bool] = field(default_factory=true)

    def free(self, now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
        """Nobody holds the row, or its holder's claim ran out."""
        owner, expires = self.table.c[self.owner], self.table.c[self.expires]
        return or_(owner.is_(None), expires.is_(None), expires < now)

    def held_by(self, owner: str) -> ColumnElement[bool]:
        return self.table.c[self.owner] == owner

    def given_up(self, now: datetime | ColumnElement[datetime]) -> dict[str, object]:
        """The values that give a claim up: nobody's, expired at `now` (any process may
        take the row at once)."""
        return {self.owner: None, self.expires: now}


@dataclass(frozen=True)
class _Statements:
    claim: Update
    reclaim: Update
    extend: Update
    release: Update

    @classmethod
    def of(cls, leased: Leased) -> _Statements:
        table = leased.table
        by_key = table.c.id == bindparam("key")
        held = table.c[leased.owner] == bindparam("owner")
        claim = update(table).where(by_key, leased.free(bindparam("now")), leased.claimable)
        to_owner: dict[str, object] = {
            leased.owner: bindparam("owner"),
            leased.expires: bindparam("until"),
        }
        extend = update(table).where(by_key, held).values({leased.expires: bindparam("until")})
        return cls(
            claim.values(to_owner),
            extend.where(leased.claimable),
            extend,
            update(table).where(by_key, held).values(leased.given_up(bindparam("now"))),
        )


_runs: Table = Run.__table__  # type: ignore[assignment]
_callbacks: Table = CallbackDelivery.__table__  # type: ignore[assignment]
RUNS = Leased(_runs, "lease_owner", "lease_expires", _runs.c.status.in_(("queued", "running")))
BATCHES = Leased(Batch.__table__, "lease_owner", "lease_expires")  # type: ignore[arg-type]
CALLBACKS = Leased(_callbacks, "claim_owner", "claim_expires", _callbacks.c.state == "pending")
_STATEMENTS = {leased: _Statements.of(leased) for leased in (RUNS, BATCHES, CALLBACKS)}


async def claim(
    claims: Claims, leased: Leased, key: object, owner: str, now: datetime, until: datetime
) -> bool:
    """Take the row if it is free and claimable: one conditional UPDATE."""
    params = {"key": key, "owner": owner, "now": now, "until": until}
    return await claims.execute(_STATEMENTS[leased].claim, params) > 0


async def reclaim(claims: Claims, leased: Leased, key: object, owner: str, until: datetime) -> bool:
    """Claim again a row `owner` already holds, if it is still claimable (a row created
    claimed, whose claim has run short while it waited): its expiry pushed on."""
    params = {"key": key, "owner": owner, "until": until}
    return await claims.execute(_STATEMENTS[leased].reclaim, params) > 0


async def extend(claims: Claims, leased: Leased, key: object, owner: str, until: datetime) -> bool:
    """Push the claim's expiry on; False if `owner` no longer holds the row."""
    params = {"key": key, "owner": owner, "until": until}
    return await claims.execute(_STATEMENTS[leased].extend, params) > 0


async def release(claims: Claims, leased: Leased, key: object, owner: str, now: datetime) -> bool:
    """Give the row up at once (its claim expires now): any process may take it over."""
    params = {"key": key, "owner": owner, "now": now}
    return await claims.execute(_STATEMENTS[leased].release, params) > 0
