"""`DatabaseQueue`: workers without Redis find queued runs in the database; two of them
polling one database execute each run once (the lease decides who)."""

from __future__ import annotations

import asyncio

import pytest

from plait.engine.context import Services
from plait.engine.db_queue import DatabaseQueue
from plait.engine.leases import Leases
from plait.engine.live import LiveRuns
from plait.engine.runner import Runner, RunRequest
from plait.engine.state import RunResult, RunStatus
from plait.engine.worker import Worker
from plait.flows.validate import compile_flow
from plait.store.db import Database
from tests.helpers import flow, node
from tests.unit.engine.nodes_for_tests import Gate, Reach, registry

PAID_THEN_GATED = flow([node("paid", "reach"), node("gate", "gate")], [("paid.out", "gate.in")])


@pytest.fixture
def db(any_db: Database) -> Database:
    """On SQLite and on PostgreSQL."""
    return any_db


def _worker(db: Database, services: Services, owner: str) -> Worker:
    runner = Runner(db, services, "preview")
    return Worker(db, registry(), lambda: runner, LiveRuns(), Leases(db, owner))


async def _executed(waiters: list[asyncio.Future[RunResult | None]]) -> RunResult:
    """The result from the worker that executed the run (the others' say None, or nothing:
    a worker that never saw the run queued)."""
    pending: set[asyncio.Future[RunResult | None]] = set(waiters)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for future in done:
            result = future.result()
            if result is not None:
                for other in pending:
                    other.cancel()
                return result
    raise AssertionError("no worker executed the run")


async def test_two_polling_workers_execute_each_queued_run_once(
    db: Database, services: Services
) -> None:
    workers = [_worker(db, services, "one"), _worker(db, services, "two")]
    queues = [DatabaseQueue(db, 4, poll_seconds=0.01) for _ in workers]
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="trigger")
    run_ids = [await workers[0].runner().submit(request) for _ in range(3)]  # not enqueued
    waiters = {r: [w.live.waiter(r) for w in workers] for r in run_ids}
    for queue, worker in zip(queues, workers, strict=True):
        await queue.start(worker.process)
    try:
        async with asyncio.timeout(30):
            results = [await _executed(waiters[r]) for r in run_ids]
    finally:
        for queue in queues:
            await queue.close()
    assert [r.status for r in results] == [RunStatus.SUCCEEDED] * 3
    assert sorted(Reach.calls) == ["paid"] * 3  # each run's paid call made once
    assert len(Gate.calls) == 3
