"""Published flows' daily budgets: a running total per flow and UTC day, held in memory.

A flow published with `daily_budget_usd` refuses a trigger call when the recorded cost
of its trigger runs since UTC midnight, plus the estimate of every run of it still in
flight, plus this run's estimate would exceed the budget. The check is arithmetic on a
cached total: the database is asked once per flow and day (the recorded cost so far),
then each run adds its estimate while it is in flight (`Reservation`) and swaps it for
its recorded cost when it settles. Between the check and the reservation nothing
awaits, so concurrent calls cannot both take the last dollars.

Once a flow has a ledger for the day, its runs are counted even if its budget is
removed, so setting a budget again later that day starts from the right total.

`BudgetLedger` is the seam; `TriggerBudgets` keeps the ledgers in this process's memory;
`plait.publishing.shared_budgets.DatabaseBudgets` keeps them in a database row per flow
and day, shared by every process on the database.
"""

from __future__ import annotations

import asyncio
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from plait.batch.estimate import estimate
from plait.engine.live import LiveRuns
from plait.engine.state import RunResult
from plait.flows.validate import CompiledFlow
from plait.publishing.refusals import CallRefused
from plait.store import flows as flow_store
from plait.store import runs as run_store
from plait.store.db import Database
from plait.store.tables import utcnow

log = logging.getLogger(__name__)

TOLERANCE_USD = 1e-9  # float sums of prices must not refuse a run that exactly fits
_MAX_ESTIMATES = 1024


@dataclass
class Ledger:
    """One flow's spending on one UTC day."""

    day: date
    spent_usd: float  # recorded cost of the day's settled trigger runs
    reserved_usd: float = 0.0  # estimates of its runs in flight
    in_flight: int = 0


class BudgetExceeded(CallRefused):
    """A trigger call refused: the flow's daily budget would be exceeded."""

    def __init__(self, flow_id: str, budget: float, ledger: Ledger, cost: float, now: datetime):
        self.flow_id = flow_id
        self.budget_usd = budget
        self.spent_usd = ledger.spent_usd
        self.reserved_usd = ledger.reserved_usd
        self.estimate_usd = cost
        self.resets_at = next_midnight(now)
        self.retry_after = max(1, math.ceil((self.resets_at - now).total_seconds()))
        super().__init__(
            f"this flow's daily budget of ${budget:.2f} is reached: ${self.spent_usd:.4f} "
            f"spent today (UTC) and ${self.reserved_usd:.4f} in runs in flight, and this run "
            f"is estimated at ${cost:.4f}; it resets at {self.resets_at.isoformat()} "
            f"(retry then), or raise the budget: PATCH /api/flows/{flow_id}/publication or "
            f"`plait flows budget {flow_id} USD`"
        )

    def body(self) -> dict[str, object]:
        return {
            "detail": str(self),
            "error": "daily_budget_exceeded",
            "flow_id": self.flow_id,
            "daily_budget_usd": self.budget_usd,
            "spent_usd": round(self.spent_usd, 6),
            "in_flight_usd": round(self.reserved_usd, 6),
            "estimate_usd": round(self.estimate_usd, 6),
            "resets_at": self.resets_at.isoformat(),
        }


class Reservation(Protocol):
    """A run's estimate held against its flow's day until the run settles."""

    def settle(self, cost_usd: float) -> None:
        """The run ended with this recorded cost (0 if it never ran); once only."""
        ...

    def cancel(self) -> None:
        """No run was started (the call failed, or repeated an Idempotency-Key)."""
        ...

    def settle_when_done(self, live: LiveRuns, run_id: str) -> None:
        """Settle with the run's recorded cost when it ends (call before it can start)."""
        ...


class BudgetLedger(Protocol):
    async def reserve(
        self, flow_id: str, budget_usd: float | None, flow: CompiledFlow, *, free: bool
    ) -> Reservation | None:
        """Hold this run's estimate, or raise `BudgetExceeded`. None: nothing to count (no
        budget, and no ledger for the flow today)."""
        ...

    async def spent_today(self, flow_id: str) -> tuple[float, float, datetime]:
        """Spent and in flight today (USD), and when the day resets."""
        ...


class SettlesWhenDone(ABC):
    """`Reservation.settle_when_done` for any reservation with `settle`: the run's recorded
    cost, from its result or, when it did not end here, from its record."""

    budgets: RunCosts
    estimate_usd: float
    _done: bool = False

    def settle(self, cost_usd: float) -> None:
        if self._done:
            return
        self._done = True
        self._release(cost_usd)

    @abstractmethod
    def _release(self, cost_usd: float) -> None:
        """Swap the held estimate for `cost_usd` (once)."""

    def cancel(self) -> None:
        self.settle(0.0)

    def settle_when_done(self, live: LiveRuns, run_id: str) -> None:
        waiter = live.waiter(run_id)
        waiter.add_done_callback(lambda done: self._ended(done, run_id))

    def _ended(self, done: asyncio.Future[RunResult | None], run_id: str) -> None:
        result = None if done.cancelled() else done.result()
        if result is not None:
            self.settle(result.usage.cost_usd)
        elif not self._done:  # it did not run here: its record has its cost
            self._settle_recorded(run_id)

    def _settle_recorded(self, run_id: str) -> None:
        """Settle with the cost the run's record holds."""
        self.budgets.background(self._settle_from_record(run_id))

    async def _settle_from_record(self, run_id: str) -> None:
        try:
            self.settle(await self.budgets.recorded_cost(run_id))
        except Exception:  # the server is stopping: the ledger goes with it
            log.warning("run %s: could not read its cost for the daily budget", run_id)
            self.settle(self.estimate_usd)


@dataclass
class HeldEstimate(SettlesWhenDone):
    """`Reservation` on an in-memory `Ledger`."""

    budgets: RunCosts
    flow_id: str
    ledger: Ledger
    estimate_usd: float

    def _release(self, cost_usd: float) -> None:
        self.ledger.reserved_usd = max(0.0, self.ledger.reserved_usd - self.estimate_usd)
        self.ledger.in_flight -= 1
        self.ledger.spent_usd += cost_usd


class RunCosts:
    """What every ledger needs: one run's estimate (kept by document), a run's recorded
    cost, the day's recorded cost so far, and tasks that settle in the background."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow):
        self._db = db
        self.clock = clock  # tests move the day on
        self._estimates: dict[tuple[str, bool], float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def estimate_usd(self, flow: CompiledFlow, *, free: bool) -> float:
        """One run's estimated cost (the batch estimate for one row), kept by document."""
        key = (flow.digest, free)
        found = self._estimates.get(key)
        if found is None:
            if len(self._estimates) >= _MAX_ESTIMATES:
                self._estimates.clear()
            found = self._estimates[key] = estimate(flow, 1, free=free).per_row_usd
        return found

    async def recorded_cost(self, run_id: str) -> float:
        async with self._db.new_session() as session:
            run = await run_store.get_run(session, run_id)
        return 0.0 if run is None else run.cost_usd

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def spent_since(self, flow_id: str, since: datetime) -> float:
        async with self._db.new_session() as session:
            return await flow_store.trigger_spend_since(session, flow_id, since)


class TriggerBudgets(RunCosts):
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow):
        super().__init__(db, clock)
        self._ledgers: dict[str, Ledger] = {}
        self._loading: dict[tuple[str, date], asyncio.Future[float]] = {}

    async def reserve(
        self, flow_id: str, budget_usd: float | None, flow: CompiledFlow, *, free: bool
    ) -> HeldEstimate | None:
        now = self.clock()
        ledger = self._ledgers.get(flow_id)
        if ledger is None or ledger.day != day_of(now):
            if budget_usd is None:
                self._ledgers.pop(flow_id, None)
                return None
            ledger = await self._ledger(flow_id, now)
        cost = self.estimate_usd(flow, free=free)
        if budget_usd is not None:
            committed = ledger.spent_usd + ledger.reserved_usd + cost
            if committed > budget_usd + TOLERANCE_USD:
                raise BudgetExceeded(flow_id, budget_usd, ledger, cost, now)
        ledger.reserved_usd += cost
        ledger.in_flight += 1
        return HeldEstimate(self, flow_id, ledger, cost)

    async def spent_today(self, flow_id: str) -> tuple[float, float, datetime]:
        now = self.clock()
        ledger = self._ledgers.get(flow_id)
        if ledger is None or ledger.day != day_of(now):
            ledger = await self._ledger(flow_id, now)
        return ledger.spent_usd, ledger.reserved_usd, next_midnight(now)

    async def _ledger(self, flow_id: str, now: datetime) -> Ledger:
        """Today's ledger, its starting total read once (concurrent first calls share it)."""
        day = day_of(now)
        key = (flow_id, day)
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self.spent_since(flow_id, midnight(day)))
            self._loading[key] = loading
        try:
            spent = await asyncio.shield(loading)
        finally:
            if loading.done():
                self._loading.pop(key, None)
        ledger = self._ledgers.get(flow_id)
        if ledger is None or ledger.day != day:  # the first of the concurrent callers
            ledger = self._ledgers[flow_id] = Ledger(day, spent)
        return ledger


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def next_midnight(now: datetime) -> datetime:
    return midnight(day_of(now) + timedelta(days=1))


def day_of(now: datetime) -> date:
    return now.astimezone(UTC).date()
