"""The `BudgetLedger` contract, on a real database: the day starts from the recorded cost
of the flow's trigger runs, estimates are held while runs are in flight, exact under
concurrent calls, a new ledger each UTC day. Run on the in-process ledger and on the
database's rows on SQLite and on PostgreSQL; the shared ones are also shared between
processes (two ledgers on two connections to one database)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from plait.engine.live import LiveRuns
from plait.flows.loader import flow_from_document
from plait.flows.validate import CompiledFlow, compile_flow
from plait.nodes.registry import builtin
from plait.publishing.budgets import BudgetExceeded, BudgetLedger, Reservation, TriggerBudgets
from plait.publishing.shared_budgets import DatabaseBudgets
from plait.store.db import Database, open_database
from plait.store.tables import FlowDocument, Run
from tests.integration.api import flows

PRICE = 0.039
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)


Clock = Callable[[], datetime]
Make = Callable[[Database, Clock], BudgetLedger]
# name: (ledger, database it runs on)
LEDGERS: dict[str, tuple[Make, str]] = {
    "in-process": (lambda db, clock: TriggerBudgets(db, clock=clock), "sqlite"),
    "database-sqlite": (lambda db, clock: DatabaseBudgets(db, clock=clock), "sqlite"),
    "database-postgres": (lambda db, clock: DatabaseBudgets(db, clock=clock), "postgres"),
}
SHARED = sorted(name for name in LEDGERS if name.startswith("database"))


@pytest.fixture(params=sorted(LEDGERS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if LEDGERS[kind][1] == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'plait.db'}"


@pytest.fixture
async def ledger_db(database_url: str) -> AsyncIterator[Database]:
    database = await open_database(database_url)
    yield database
    await database.close()


@pytest.fixture
def ledger(kind: str, ledger_db: Database) -> Callable[[Clock], BudgetLedger]:
    return lambda clock: LEDGERS[kind][0](ledger_db, clock)


@pytest.fixture
def image_flow() -> CompiledFlow:
    return compile_flow(flow_from_document(flows.image_endpoint()), builtin())


async def _record_runs(db: Database, *runs: dict[str, Any]) -> None:
    async with db.new_session() as session, session.begin():
        session.add(FlowDocument(hash="h" * 64, document={}))
        for n, fields in enumerate(runs):
            session.add(
                Run(id=f"run{n}", flow_hash="h" * 64, status="succeeded", inputs={}, **fields)
            )


async def _at_once(
    ledgers: list[BudgetLedger], budget: float, calls: int, flow: CompiledFlow
) -> tuple[list[Reservation], int]:
    """`calls` reservations at once, spread over `ledgers`: those held, how many refused."""
    answers = await asyncio.gather(
        *(ledgers[n % len(ledgers)].reserve("f", budget, flow, free=False) for n in range(calls)),
        return_exceptions=True,
    )
    held = [a for a in answers if a is not None and not isinstance(a, BaseException)]
    refused = sum(isinstance(a, BudgetExceeded) for a in answers)
    assert len(held) + refused == calls, answers  # nothing else: no error, no None
    return held, refused


async def test_the_day_starts_from_the_recorded_cost_of_its_trigger_runs(
    ledger_db: Database, ledger: Callable[[Clock], BudgetLedger], image_flow: CompiledFlow
) -> None:
    await _record_runs(
        ledger_db,
        {"flow_id": "f", "source": "trigger", "cost_usd": 0.05, "created_at": NOW},
        {"flow_id": "f", "source": "trigger", "cost_usd": 9.0, "created_at": YESTERDAY},
        {"flow_id": "f", "source": "editor", "cost_usd": 9.0, "created_at": NOW},
        {"flow_id": "g", "source": "trigger", "cost_usd": 9.0, "created_at": NOW},
    )
    budgets = ledger(lambda: NOW)
    assert (await budgets.spent_today("f"))[0] == pytest.approx(0.05)
    with pytest.raises(BudgetExceeded) as refused:
        await budgets.reserve("f", 0.08, image_flow, free=False)
    assert refused.value.spent_usd == pytest.approx(0.05)
    assert refused.value.retry_after == 9 * 3600
    assert await budgets.reserve("f", 0.09, image_flow, free=False) is not None


async def test_concurrent_calls_never_overspend(
    ledger: Callable[[Clock], BudgetLedger], image_flow: CompiledFlow
) -> None:
    budgets = ledger(lambda: NOW)
    held, refused = await _at_once([budgets], 0.2, 10, image_flow)
    assert len(held) == 5  # 5 × 0.039 = 0.195 fits; a sixth would not
    assert refused == 5
    for reservation in held[:2]:
        reservation.settle(0.0391)
    held[2].cancel()  # never ran
    spent, in_flight, _ = await budgets.spent_today("f")
    assert spent == pytest.approx(0.0782)
    assert in_flight == pytest.approx(2 * PRICE)


async def test_a_run_settled_by_another_process_settles_with_its_recorded_cost(
    ledger_db: Database, ledger: Callable[[Clock], BudgetLedger], image_flow: CompiledFlow
) -> None:
    budgets, live = ledger(lambda: NOW), LiveRuns()
    held = await budgets.reserve("f", 1.0, image_flow, free=False)
    assert held is not None
    held.settle_when_done(live, "run0")
    await _record_runs(ledger_db, {"flow_id": "f", "source": "editor", "cost_usd": 0.0391})
    live.settled_elsewhere("run0")  # its worker's signal: the record is committed
    for _ in range(500):  # the settling is written in the background
        await ledger_db.journal.flush()
        spent, in_flight, _ = await budgets.spent_today("f")
        if in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert spent == pytest.approx(0.0391)
    assert in_flight == 0


async def test_a_new_utc_day_starts_a_new_ledger(
    ledger: Callable[[Clock], BudgetLedger], image_flow: CompiledFlow
) -> None:
    clock = {"now": NOW.replace(hour=23, minute=59)}
    budgets = ledger(lambda: clock["now"])
    late = await budgets.reserve("f", 0.05, image_flow, free=False)
    assert late is not None
    with pytest.raises(BudgetExceeded):
        await budgets.reserve("f", 0.05, image_flow, free=False)
    clock["now"] += timedelta(minutes=2)
    assert await budgets.reserve("f", 0.05, image_flow, free=False) is not None
    late.settle(PRICE)  # yesterday's run settles into yesterday's ledger
    spent, in_flight, _ = await budgets.spent_today("f")
    assert spent == 0
    assert in_flight == pytest.approx(PRICE)


async def test_previews_are_free_and_no_budget_means_no_ledger(
    ledger: Callable[[Clock], BudgetLedger], image_flow: CompiledFlow
) -> None:
    budgets = ledger(lambda: NOW)
    for _ in range(3):
        assert await budgets.reserve("f", 0.0, image_flow, free=True) is not None
    assert await budgets.reserve("other", None, image_flow, free=False) is None


async def test_many_reservations_at_once_never_exceed_the_budget(
    ledger: Callable[[Clock], BudgetLedger], image_flow: CompiledFlow
) -> None:
    budgets = ledger(lambda: NOW)
    held, refused = await _at_once([budgets], 0.5, 40, image_flow)
    assert len(held) == 12  # 12 × 0.039 = 0.468; a thirteenth would not fit
    assert refused == 28
    _, in_flight, _ = await budgets.spent_today("f")
    assert in_flight == pytest.approx(12 * PRICE)


@pytest.mark.parametrize("kind", SHARED)
async def test_processes_on_one_database_share_the_budget(
    kind: str, database_url: str, image_flow: CompiledFlow
) -> None:
    """Two servers (two ledgers, each on its own engine) on one database: together they
    hold no more than the budget, and each sees what the other spent."""
    first, second = await open_database(database_url), await open_database(database_url)
    try:
        ledgers = [LEDGERS[kind][0](db, lambda: NOW) for db in (first, second)]
        held, refused = await _at_once(ledgers, 0.5, 40, image_flow)
        assert (len(held), refused) == (12, 28)
        for reservation in held:
            reservation.settle(0.04)
        await first.journal.flush()
        spent, in_flight, _ = await ledgers[1].spent_today("f")
        assert spent == pytest.approx(12 * 0.04)
        assert in_flight == pytest.approx(0)
    finally:
        await first.close()
        await second.close()
