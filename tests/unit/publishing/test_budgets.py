"""The in-process ledger (`TriggerBudgets`; its contract: tests/contracts): the day's
recorded cost is read with one query however many calls come at once, and the estimate
of a run is the batch estimate of one row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from plait.flows.loader import flow_from_document
from plait.flows.validate import compile_flow
from plait.nodes.registry import builtin
from plait.publishing.budgets import HeldEstimate, TriggerBudgets
from plait.store.db import Database
from tests.integration.api import flows

PRICE = 0.039
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


async def test_concurrent_calls_share_one_query(db: Database) -> None:
    image_flow = compile_flow(flow_from_document(flows.image_endpoint()), builtin())
    queries: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        queries.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    budgets = TriggerBudgets(db, clock=lambda: NOW)
    answers = await asyncio.gather(
        *(budgets.reserve("f", 0.2, image_flow, free=False) for _ in range(10)),
        return_exceptions=True,
    )
    held = [a for a in answers if isinstance(a, HeldEstimate)]
    assert len(held) == 5
    assert len([q for q in queries if "sum(runs.cost_usd)" in q]) == 1
    held[0].settle(0.0391)
    await budgets.spent_today("f")
    assert len([q for q in queries if "sum(runs.cost_usd)" in q]) == 1


async def test_a_run_s_estimate_is_the_batch_estimate_of_one_row(db: Database) -> None:
    image_flow = compile_flow(flow_from_document(flows.image_endpoint()), builtin())
    budgets = TriggerBudgets(db, clock=lambda: NOW)
    assert budgets.estimate_usd(image_flow, free=True) == 0
    assert budgets.estimate_usd(image_flow, free=False) == pytest.approx(PRICE)
