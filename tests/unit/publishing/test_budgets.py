"""The daily budget ledger on a real SQLite database: one query per flow and day, estimates
held while runs are in flight, exact under concurrent calls, a new ledger each UTC day."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from plait.flows.loader import flow_from_document
from plait.flows.validate import CompiledFlow, compile_flow
from plait.nodes.registry import builtin
from plait.publishing.budgets import BudgetExceeded, HeldEstimate, TriggerBudgets
from plait.store.db import Database, open_database
from plait.store.tables import FlowDocument, Run
from tests.integration.api import flows

PRICE = 0.039
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'plait.db'}")
    yield database
    await database.close()


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


async def test_the_day_starts_from_the_recorded_cost_of_its_trigger_runs(
    db: Database, image_flow: CompiledFlow
) -> None:
    await _record_runs(
        db,
        {"flow_id": "f", "source": "trigger", "cost_usd": 0.05, "created_at": NOW},
        {"flow_id": "f", "source": "trigger", "cost_usd": 9.0, "created_at": YESTERDAY},
        {"flow_id": "f", "source": "editor", "cost_usd": 9.0, "created_at": NOW},
        {"flow_id": "g", "source": "trigger", "cost_usd": 9.0, "created_at": NOW},
    )
    budgets = TriggerBudgets(db, clock=lambda: NOW)
    assert (await budgets.spent_today("f"))[0] == pytest.approx(0.05)
    with pytest.raises(BudgetExceeded) as refused:
        await budgets.reserve("f", 0.08, image_flow, free=False)
    assert refused.value.spent_usd == pytest.approx(0.05)
    assert refused.value.retry_after == 9 * 3600
    assert await budgets.reserve("f", 0.09, image_flow, free=False) is not None


async def test_concurrent_calls_share_one_query_and_never_overspend(
    db: Database, image_flow: CompiledFlow
) -> None:
    queries: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", _count(queries))
    budgets = TriggerBudgets(db, clock=lambda: NOW)
    answers = await asyncio.gather(
        *(budgets.reserve("f", 0.2, image_flow, free=False) for _ in range(10)),
        return_exceptions=True,
    )
    held = [a for a in answers if isinstance(a, HeldEstimate)]
    assert len(held) == 5  # 5 × 0.039 = 0.195 fits; a sixth would not
    assert sum(isinstance(a, BudgetExceeded) for a in answers) == 5
    assert len([q for q in queries if "sum(runs.cost_usd)" in q]) == 1
    for reservation in held[:2]:
        reservation.settle(0.0391)
    held[2].cancel()  # never ran
    spent, in_flight, _ = await budgets.spent_today("f")
    assert spent == pytest.approx(0.0782)
    assert in_flight == pytest.approx(2 * PRICE)
    assert len([q for q in queries if "sum(runs.cost_usd)" in q]) == 1


async def test_a_new_utc_day_starts_a_new_ledger(db: Database, image_flow: CompiledFlow) -> None:
    clock = {"now": NOW.replace(hour=23, minute=59)}
    budgets = TriggerBudgets(db, clock=lambda: clock["now"])
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
    db: Database, image_flow: CompiledFlow
) -> None:
    budgets = TriggerBudgets(db, clock=lambda: NOW)
    assert budgets.estimate_usd(image_flow, free=True) == 0
    assert budgets.estimate_usd(image_flow, free=False) == pytest.approx(PRICE)
    for _ in range(3):
        assert await budgets.reserve("f", 0.0, image_flow, free=True) is not None
    assert await budgets.reserve("other", None, image_flow, free=False) is None


def _count(queries: list[str]) -> Any:
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        queries.append(statement)

    return count
