"""Published flows' daily budgets in the database: one row per flow and UTC day, shared by
every process (`plait.store.budgets`).

A call holds its run's estimate with one conditional UPDATE of the day's row (reserved +=
estimate where spent + reserved + estimate stays within the budget); the database orders
concurrent UPDATEs of one row, so processes together never take the same last dollars.
The run's settling swaps its estimate for its recorded cost through the journal. The
day's row starts at the recorded cost of the flow's trigger runs since UTC midnight; once
it exists, the flow's runs are counted even while it has no budget (as `TriggerBudgets`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from plait.flows.validate import CompiledFlow
from plait.publishing.budgets import (
    TOLERANCE_USD,
    BudgetExceeded,
    BudgetLedger,
    Ledger,
    RunCosts,
    SettlesWhenDone,
    TriggerBudgets,
    day_of,
    midnight,
    next_midnight,
)
from plait.store import budgets as rows
from plait.store.db import Database, is_postgres
from plait.store.journal import Rows


@dataclass
class HeldRow(SettlesWhenDone):
    """`Reservation` on a flow's `BudgetDay` row."""

    budgets: DatabaseBudgets
    flow_id: str
    day: date
    estimate_usd: float

    def _release(self, cost_usd: float) -> None:
        self.budgets.journal_settle(
            rows.settle(self.flow_id, self.day, self.estimate_usd, cost_usd)
        )

    def _settle_recorded(self, run_id: str) -> None:
        """One journal write that reads the run's recorded cost itself (the run settled
        in another process, which committed its record before saying so)."""
        self._done = True
        self.budgets.journal_settle(
            rows.settle_recorded(self.flow_id, self.day, self.estimate_usd, run_id)
        )


class DatabaseBudgets(RunCosts):
    async def reserve(
        self, flow_id: str, budget_usd: float | None, flow: CompiledFlow, *, free: bool
    ) -> HeldRow | None:
        now = self.clock()
        day = day_of(now)
        cost = self.estimate_usd(flow, free=free)
        limit = None if budget_usd is None else budget_usd + TOLERANCE_USD
        if await self._hold(flow_id, day, cost, limit):
            return HeldRow(self, flow_id, day, cost)
        if budget_usd is None:
            return None  # no row today: nothing counts until a budget is set
        ledger = await self._today(flow_id, now)
        if ledger.spent_usd + ledger.reserved_usd + cost > budget_usd + TOLERANCE_USD:
            raise BudgetExceeded(flow_id, budget_usd, ledger, cost, now)
        if await self._hold(flow_id, day, cost, limit):  # the row was new
            return HeldRow(self, flow_id, day, cost)
        ledger = await self._today(flow_id, now)  # taken meanwhile by other calls
        raise BudgetExceeded(flow_id, budget_usd, ledger, cost, now)

    async def spent_today(self, flow_id: str) -> tuple[float, float, datetime]:
        now = self.clock()
        ledger = await self._today(flow_id, now)
        return ledger.spent_usd, ledger.reserved_usd, next_midnight(now)

    def journal_settle(self, write: Rows) -> None:
        self._db.journal.post(write)

    async def _hold(self, flow_id: str, day: date, cost: float, limit: float | None) -> bool:
        return await rows.hold(self._db.claims, flow_id, day, cost, limit)

    async def _today(self, flow_id: str, now: datetime) -> Ledger:
        """Today's row (started if missing), as a `Ledger`."""
        day = day_of(now)
        async with self._db.new_session() as session:
            found = await rows.budget_day(session, flow_id, day)
        if found is None:
            spent = await self.spent_since(flow_id, midnight(day))
            async with self._db.new_session(after_journal=False) as session, session.begin():
                await rows.open_day(session, flow_id, day, spent)
                found = await rows.budget_day(session, flow_id, day)
            assert found is not None  # just made, by this call or another
        return Ledger(day, found.spent_usd, found.reserved_usd, found.in_flight)


def budget_ledger(db: Database) -> BudgetLedger:
    """The ledger for a server on `db`: its rows when other processes may share the
    database (PostgreSQL), else this process's memory (a SQLite file has one server)."""
    if is_postgres(db.url):
        return DatabaseBudgets(db)
    return TriggerBudgets(db)
