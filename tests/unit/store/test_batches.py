"""A batch's row writes: prepared statements the journal runs for many rows at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from plait.engine.events import EventBus
from plait.engine.runner import RunRequest
from plait.flows.validate import compile_flow
from plait.runtime import Runtime, open_runtime
from plait.settings import Settings
from plait.store import batches as store
from plait.store.journal import Rows
from tests.helpers import flow, node

BATCH = {
    "id": "b1",
    "flow_hash": "h",
    "flow_path": "flow.json",
    "rows_path": "rows.csv",
    "trigger_id": None,
    "out_dir": None,
    "total_rows": 3,
    "batch_api": False,
}


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(PLAIT_DATA_DIR=tmp_path, PLAIT_IMAGE_BACKEND="preview")
    async with open_runtime(settings) as opened:
        rows: list[dict[str, Any]] = [{"number": n, "given": {}, "inputs": {}} for n in (1, 2, 3)]
        document = {"format": 1, "nodes": [], "edges": []}
        await opened.db.journal.write(store.create_batch(BATCH, document, rows))
        yield opened


async def _rows(runtime: Runtime) -> list[tuple[object, ...]]:
    async with runtime.db.new_session() as session:
        return [
            (r.number, r.status, r.run_id, r.attempts, r.error, r.cost_usd, r.outputs)
            for r in await store.rows_of(session, "b1")
        ]


def _settle(number: int, status: str, cost: float, outputs: list[str] | None = None) -> Rows:
    error = None if status == "succeeded" else "blocked"
    return store.settle_row(
        "b1", number, status=status, error=error, cost_usd=cost, outputs=outputs
    )


async def test_settling_adds_the_cost_to_earlier_attempts_and_many_rows_settle_at_once(
    runtime: Runtime,
) -> None:
    journal = runtime.db.journal
    await journal.write(_settle(1, "failed", 0.5))  # a first attempt
    executed: list[str] = []  # what reached the database
    engine = journal._kept.engine
    assert engine is not None  # made by the fixture's first write
    event.listen(engine, "before_cursor_execute", lambda *a: executed.append(a[2]))

    await asyncio.gather(
        journal.post(_settle(1, "succeeded", 0.25, ["a.png"])),
        journal.post(_settle(2, "failed", 0.0)),
        journal.post(_settle(3, "succeeded", 0.25, ["b.png"])),
    )

    assert await _rows(runtime) == [
        (1, "succeeded", None, 0, None, 0.75, ["a.png"]),
        (2, "failed", None, 0, "blocked", 0.0, None),
        (3, "succeeded", None, 0, None, 0.25, ["b.png"]),
    ]
    updates = [sql for sql in executed if sql.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1  # one statement for the three rows


async def test_a_row_is_linked_to_its_run_and_settled_in_one_commit(runtime: Runtime) -> None:
    compiled = compile_flow(flow([node("trigger", "http_trigger")]), runtime.registry)
    journal = runtime.db.journal
    begun = await runtime.runner().begin(RunRequest(compiled, {}), EventBus())  # not landed
    run_id = begun.run_id

    link = store.update_row("b1", 2, status=store.RUNNING, run_id=run_id, attempts=1)
    await asyncio.gather(journal.post(link), journal.post(_settle(2, "succeeded", 0.1, [])))

    assert (await _rows(runtime))[1] == (2, "succeeded", run_id, 1, None, 0.1, [])


async def test_counts_of_many_batches_are_each_their_own_and_read_at_once(
    runtime: Runtime,
) -> None:
    other = {**BATCH, "id": "b2", "total_rows": 2}
    rows: list[dict[str, Any]] = [{"number": n, "given": {}, "inputs": {}} for n in (1, 2)]
    journal = runtime.db.journal
    await journal.write(store.create_batch(other, {"format": 1, "nodes": [], "edges": []}, rows))
    await journal.write(_settle(1, "succeeded", 0.25))
    await journal.write(_settle(3, "failed", 0.5))
    await journal.write(
        store.settle_row("b2", 2, status="skipped", error="over budget", cost_usd=0.0, outputs=None)
    )

    statements: list[str] = []
    engine = runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    async with runtime.db.new_session() as session:
        counts = await store.status_counts_of(session, ["b1", "b2", "gone"])
        found = await store.batches_by_id(session, ["b2", "gone", "b1"])

    zero = {"pending": 0, "running": 0, "succeeded": 0, "failed": 0, "skipped": 0}
    assert counts == {
        "b1": ({**zero, "pending": 1, "succeeded": 1, "failed": 1}, 0.75),
        "b2": ({**zero, "pending": 1, "skipped": 1}, 0.0),
        "gone": (zero, 0.0),
    }
    assert {k: v.total_rows for k, v in found.items()} == {"b1": 3, "b2": 2}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
