"""`Worker`: executes queued runs by id from their records, resumes interrupted ones
without running finished nodes again, and tells `LiveRuns` how each run ended."""

from __future__ import annotations

import asyncio

import pytest

from plait.engine.context import Services
from plait.engine.live import LiveRuns
from plait.engine.runner import Runner, RunRequest
from plait.engine.state import RunStatus
from plait.engine.worker import Worker
from plait.flows.validate import compile_flow
from plait.store import run_writes
from plait.store import runs as run_store
from plait.store.db import Database
from tests.helpers import flow, node
from tests.unit.engine.nodes_for_tests import Gate, Reach, registry

PAID_THEN_GATED = flow([node("paid", "reach"), node("gate", "gate")], [("paid.out", "gate.in")])


class Queued:
    """A queue that only records what was handed to it."""

    def __init__(self) -> None:
        self.run_ids: list[str] = []

    async def start(self, handler: object) -> None:
        pass

    async def enqueue(self, run_id: str) -> None:
        self.run_ids.append(run_id)

    async def close(self) -> None:
        pass


@pytest.fixture
def worker(db: Database, services: Services) -> Worker:
    return Worker(db, registry(), lambda: Runner(db, services, "preview"), LiveRuns())


async def _status(db: Database, run_id: str) -> tuple[str, dict[str, str]]:
    async with db.new_session() as session:
        run = await run_store.get_run(session, run_id)
        nodes = await run_store.node_runs(session, run_id)
    assert run is not None
    return run.status, {n.node_id: n.status for n in nodes}


async def test_a_queued_run_is_executed_from_its_record(worker: Worker, db: Database) -> None:
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="editor")
    run_id = await worker.runner().submit(request)
    waiter = worker.live.waiter(run_id)
    await worker.process(run_id)  # nothing prepared: read back from the database
    result = await waiter
    assert result is not None
    assert result.status == RunStatus.SUCCEEDED
    assert result.nodes["gate"].outputs == {"out": "reached"}
    assert await _status(db, run_id) == ("succeeded", {"paid": "succeeded", "gate": "succeeded"})


async def test_a_prepared_run_is_not_read_back(worker: Worker, db: Database) -> None:
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="editor")
    run_id = await worker.runner().submit(request)
    worker.prepare(run_id, request)
    async with db.new_session() as session, session.begin():
        await run_store.cancel_queued(session, run_id)  # the record no longer runnable
    await worker.process(run_id)
    assert Reach.calls == ["paid"]  # ran from the prepared request


async def test_an_interrupted_run_resumes_without_paying_again(
    worker: Worker, db: Database
) -> None:
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="trigger")
    run_id = await worker.runner().submit(request)
    Gate.barrier, Gate.entered = asyncio.Barrier(2), asyncio.Event()  # the gate holds
    first = asyncio.ensure_future(worker.process(run_id))
    await Gate.entered.wait()
    first.cancel()  # the server stops mid-run
    with pytest.raises(asyncio.CancelledError):
        await first
    await db.journal.flush()
    assert await _status(db, run_id) == ("running", {"paid": "succeeded"})

    Gate.barrier = None
    queue = Queued()
    assert await worker.recover(queue) == 1
    assert queue.run_ids == [run_id]
    await worker.process(run_id)
    assert Reach.calls == ["paid"]  # once, before the stop
    assert Gate.calls == ["gate", "gate"]
    assert await _status(db, run_id) == ("succeeded", {"paid": "succeeded", "gate": "succeeded"})


async def test_batch_runs_are_left_to_their_batch(worker: Worker) -> None:
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="batch")
    await worker.runner().submit(request)
    queue = Queued()
    assert await worker.recover(queue) == 0
    assert queue.run_ids == []


async def test_a_run_cancelled_while_queued_does_not_start(worker: Worker) -> None:
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="editor")
    run_id = await worker.runner().submit(request)
    worker.prepare(run_id, request)
    worker.live.forbid_start(run_id)
    waiter = worker.live.waiter(run_id)
    await worker.process(run_id)
    assert await waiter is None
    assert Reach.calls == []


async def test_an_unknown_run_wakes_its_waiters_with_none(worker: Worker) -> None:
    waiter = worker.live.waiter("nope")
    await worker.process("nope")
    assert await waiter is None


async def test_a_stored_flow_that_no_longer_compiles_fails_its_run(
    worker: Worker, db: Database
) -> None:
    row = {"id": "r1", "flow_hash": "b" * 64, "source": "editor", "inputs": {}}
    broken = {"format": 1, "nodes": [{"id": "x", "type": "gone", "config": {}}], "edges": []}
    await db.journal.write(run_writes.create_run(row, broken))
    await worker.process("r1")
    async with db.new_session() as session:
        run = await run_store.get_run(session, "r1")
    assert run is not None
    assert run.status == "failed"
    assert run.error is not None
    assert run.error.startswith("the flow is invalid:")
    assert "gone" in run.error


async def test_run_here_records_and_returns_the_result(worker: Worker, db: Database) -> None:
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="trigger")
    seen: list[str] = []
    run_id, result = await worker.run_here(request, seen.append)
    assert seen == [run_id]
    assert result is not None
    assert result.status == RunStatus.SUCCEEDED
    await db.journal.flush()
    assert (await _status(db, run_id))[0] == "succeeded"
