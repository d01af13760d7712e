"""Repository functions for the shared daily budget rows (`BudgetDay`): reserved by a
conditional UPDATE, so concurrent calls in any number of processes never take the same
last dollars (each UPDATE of the row waits for the one before it). The UPDATE goes
through the database's `Claims` (batched with the claims of runs, on a connection of
their own): a call takes no connection from the pool for it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Insert,
    Table,
    bindparam,
    case,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.claims import Claims
from plait.store.journal import Rows, Statement
from plait.store.tables import BudgetDay, Run

_days: Table = BudgetDay.__table__  # type: ignore[assignment]
_THIS_DAY = (_days.c.flow_id == bindparam("b_flow"), _days.c.day == bindparam("b_day"))
_OPEN = {
    "sqlite": sqlite.insert(_days).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(_days).on_conflict_do_nothing(),
}
_estimate: BindParameter[float] = bindparam("estimate")
_HOLD = (
    update(_days)
    .where(*_THIS_DAY)
    .values(reserved_usd=_days.c.reserved_usd + _estimate, in_flight=_days.c.in_flight + 1)
)
_HOLD_WITHIN = _HOLD.where(
    _days.c.spent_usd + _days.c.reserved_usd + _estimate <= bindparam("limit")
)
_left = _days.c.reserved_usd - bindparam("estimate")


def _settling(cost: ColumnElement[float]) -> Statement:
    return Statement(
        update(_days)
        .where(*_THIS_DAY)
        .values(
            reserved_usd=case((_left > 0, _left), else_=0.0),
            spent_usd=_days.c.spent_usd + cost,
            in_flight=_days.c.in_flight - 1,
        ),
        order=100,  # after the run writes of a batch; its rows are its own
    )


_SETTLE = _settling(bindparam("cost"))
_run_cost = select(Run.cost_usd).where(Run.id == bindparam("run_id")).scalar_subquery()
_SETTLE_RECORDED = _settling(func.coalesce(_run_cost, 0.0))


async def hold(
    claims: Claims, flow_id: str, day: date, estimate: float, limit: float | None
) -> bool:
    """Add `estimate` to the day's reserved total if the day's row exists and the new
    total (spent + reserved + estimate) stays within `limit` (None: no limit)."""
    params = {"b_flow": flow_id, "b_day": day, "estimate": estimate}
    if limit is None:
        return await claims.execute(_HOLD, params) > 0
    return await claims.execute(_HOLD_WITHIN, params | {"limit": limit}) > 0


async def budget_day(session: AsyncSession, flow_id: str, day: date) -> BudgetDay | None:
    return await session.scalar(
        select(BudgetDay).where(BudgetDay.flow_id == flow_id, BudgetDay.day == day)
    )


async def open_day(session: AsyncSession, flow_id: str, day: date, spent_usd: float) -> None:
    """Start the day's row at `spent_usd`, unless another process started it first."""
    insert: Insert = _OPEN[session.get_bind().dialect.name]
    row = {"flow_id": flow_id, "day": day, "spent_usd": spent_usd}
    await session.execute(insert, {**row, "reserved_usd": 0.0, "in_flight": 0})


def settle(flow_id: str, day: date, estimate: float, cost_usd: float) -> Rows:
    """The journal write that swaps a run's held `estimate` for its recorded cost."""
    return _SETTLE.rows({"b_flow": flow_id, "b_day": day, "estimate": estimate, "cost": cost_usd})


def settle_recorded(flow_id: str, day: date, estimate: float, run_id: str) -> Rows:
    """`settle` with the cost the run's record holds (0 if there is none), read by the
    UPDATE itself: for a run that settled in another process."""
    return _SETTLE_RECORDED.rows(
        {"b_flow": flow_id, "b_day": day, "estimate": estimate, "run_id": run_id}
    )
