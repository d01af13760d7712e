"""`Worker`: executes queued runs by id from their records when it wins their lease,
resumes interrupted ones without running finished nodes again (counting the calls that
were in flight), and tells `LiveRuns` how each run ended. `Reaper`: queues again only
the runs nobody executes (expired leases, lost queued jobs)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from plait.engine.context import Services
from plait.engine.leases import Leases
from plait.engine.live import LiveRuns
from plait.engine.reaper import Reaper
from plait.engine.relay import RunRelay
from plait.engine.runner import Runner, RunRequest
from plait.engine.state import RunStatus
from plait.engine.worker import Worker
from plait.flows.compiled import CompiledFlows
from plait.flows.validate import CompiledFlow, compile_flow
from plait.publishing.launch import InProcessLauncher
from plait.signals import InMemorySignals
from plait.store import run_writes
from plait.store import runs as run_store
from plait.store.db import Database
from plait.store.leases import RUNS, Leased
from tests.helpers import UtcClock, flow, node
from tests.unit.engine.nodes_for_tests import Gate, Reach, registry

PAID_THEN_GATED = flow([node("paid", "reach"), node("gate", "gate")], [("paid.out", "gate.in")])


class Queued:
    """A queue that only records what was handed to it: nothing takes its jobs, so a run
    handed to it once waits there (`requeue` leaves it in its place)."""

    delivers_here = False

    def __init__(self) -> None:
        self.run_ids: list[str] = []

    async def start(self, handler: object) -> None:
        pass

    async def enqueue(self, run_id: str) -> None:
        await self.requeue(run_id)

    async def requeue(self, run_id: str) -> bool:
        if run_id in self.run_ids:
            return False
        self.run_ids.append(run_id)
        return True

    async def close(self) -> None:
        pass


class Stale(Queued):
    """A queue whose jobs all went stale with the worker that took them: each `requeue`
    replaces the job."""

    async def requeue(self, run_id: str) -> bool:
        self.run_ids.append(run_id)
        return True


@pytest.fixture
def db(any_db: Database) -> Database:
    """On SQLite and on PostgreSQL."""
    return any_db


@pytest.fixture
def clock() -> UtcClock:
    return UtcClock()


@pytest.fixture
def worker(db: Database, services: Services, clock: UtcClock) -> Worker:
    leases = Leases(db, "here", 30, clock)
    return Worker(db, registry(), lambda: Runner(db, services, "preview"), LiveRuns(), leases)


def _reaper(worker: Worker, queue: Queued, grace: float = 120) -> Reaper:
    return Reaper(worker.db, queue, worker.leases, grace)


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
    stored = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="editor")
    run_id = await worker.runner().submit(stored)
    kept = flow([node("kept", "reach")])
    worker.prepare(run_id, RunRequest(compile_flow(kept, registry()), {}, source="editor"))
    await worker.process(run_id)
    assert Reach.calls == ["kept"]  # ran from the prepared request, not the record


class CountingCompiles(CompiledFlows):
    """Compiled flows that count the documents they compile."""

    compiles = 0

    def of(self, digest: str, document: dict[str, Any]) -> CompiledFlow:
        if self.get(digest) is None:
            self.compiles += 1
        return super().of(digest, document)


async def test_queued_runs_of_one_flow_compile_it_once(
    db: Database, services: Services, clock: UtcClock
) -> None:
    compiled = CountingCompiles(registry())
    leases = Leases(db, "here", 30, clock)
    runner = Runner(db, services, "preview")
    worker = Worker(db, registry(), lambda: runner, LiveRuns(), leases, compiled=compiled)
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="editor")
    run_ids = [await runner.submit(request) for _ in range(3)]
    for run_id in run_ids:
        await worker.process(run_id)  # each read back from its record
    assert Reach.calls == ["paid"] * 3
    assert [(await _status(db, r))[0] for r in run_ids] == ["succeeded"] * 3
    assert compiled.compiles == 1


async def test_only_the_latest_prepared_requests_are_kept(
    db: Database, services: Services, clock: UtcClock
) -> None:
    """With a shared queue, other processes execute most runs submitted here, and this
    one is never told: it forgets the oldest requests instead of keeping them all."""
    leases = Leases(db, "here", 30, clock)
    worker = Worker(
        db, registry(), lambda: Runner(db, services, "preview"), LiveRuns(), leases, None, 2
    )
    stored = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="editor")
    kept = RunRequest(compile_flow(flow([node("kept", "reach")]), registry()), {}, "editor")
    run_ids = [await worker.runner().submit(stored) for _ in range(3)]
    for run_id in run_ids:
        worker.prepare(run_id, kept)
    await worker.process(run_ids[0])  # forgotten: read back from its record
    assert Reach.calls == ["paid"]
    await worker.process(run_ids[2])
    assert Reach.calls == ["paid", "kept"]


@pytest.mark.parametrize("executes", [True, False])
async def test_only_a_process_that_executes_keeps_the_request_of_a_run_it_queued(
    worker: Worker, db: Database, executes: bool
) -> None:
    queue = Queued()
    started = await _launcher(worker, queue, executes=executes).start(_paid_then_gated())
    assert queue.run_ids == [started.run_id]
    assert worker.cancel_here(started.run_id) is executes  # held here only if it executes


class DeliversHere(Queued):
    """This process's own queue: a run enqueued here comes to this process's worker."""

    delivers_here = True


class CountingTakes(Leases):
    """Leases that count the claims their process asks for."""

    takes = 0

    async def take(self, leased: Leased, key: Any) -> bool:
        self.takes += 1
        return await super().take(leased, key)


@pytest.fixture
def counted(db: Database, services: Services, clock: UtcClock) -> Worker:
    """A worker whose leases (`CountingTakes`, owner "here") count its claims."""
    leases = CountingTakes(db, "here", 30, clock)
    return Worker(db, registry(), lambda: Runner(db, services, "preview"), LiveRuns(), leases)


def _launcher(worker: Worker, queue: Queued, *, executes: bool = True) -> InProcessLauncher:
    relay = RunRelay(InMemorySignals(), worker.live, worker.db.journal.flush)
    return InProcessLauncher(worker.db, worker.runner, worker, queue, relay, execute_here=executes)


def _paid_then_gated() -> RunRequest:
    return RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="trigger")


def _takes(worker: Worker) -> int:
    """How many claims the worker asked for (its leases are `CountingTakes`)."""
    assert isinstance(worker.leases, CountingTakes)
    return worker.leases.takes


async def _lease(db: Database, run_id: str) -> tuple[str, str | None]:
    async with db.new_session() as session:
        run = await run_store.get_run(session, run_id)
    assert run is not None
    return run.status, run.lease_owner


async def test_a_run_for_this_process_s_own_queue_is_created_claimed_and_starts_unclaimed(
    counted: Worker, db: Database
) -> None:
    started = await _launcher(counted, DeliversHere()).start(_paid_then_gated())
    assert await _lease(db, started.run_id) == ("queued", "here")  # no other process takes it
    waiter = counted.live.waiter(started.run_id)
    await counted.process(started.run_id)
    result = await waiter
    assert result is not None
    assert result.status == RunStatus.SUCCEEDED
    assert _takes(counted) == 0  # it started under the claim it was created with
    await db.journal.flush()
    assert await _lease(db, started.run_id) == ("succeeded", None)


async def test_a_shared_queue_s_run_is_created_unclaimed_and_claimed_when_it_starts(
    counted: Worker, db: Database
) -> None:
    started = await _launcher(counted, Queued()).start(_paid_then_gated())
    assert await _lease(db, started.run_id) == ("queued", None)  # any process's worker may
    await counted.process(started.run_id)
    assert _takes(counted) == 1
    assert Reach.calls == ["paid"]


async def test_a_run_whose_claim_ran_short_while_it_waited_here_is_claimed_again(
    counted: Worker, db: Database, clock: UtcClock
) -> None:
    started = await _launcher(counted, DeliversHere()).start(_paid_then_gated())
    clock.advance(20)  # 10 s of its 30 left: too few to start under
    assert not await Leases(db, "there", 30, clock).claim(RUNS, started.run_id)  # still held
    await counted.process(started.run_id)
    assert _takes(counted) == 1  # its claim pushed on, then it ran
    assert Reach.calls == ["paid"]


async def test_a_run_another_process_took_over_while_it_waited_here_is_left_to_it(
    counted: Worker, db: Database, clock: UtcClock
) -> None:
    started = await _launcher(counted, DeliversHere()).start(_paid_then_gated())
    clock.advance(31)  # it waited past its claim: another process's reaper took it
    assert await Leases(db, "there", 30, clock).claim(RUNS, started.run_id)
    waiter = counted.live.waiter(started.run_id)
    await counted.process(started.run_id)
    assert Reach.calls == []
    assert not waiter.done()  # its waiters wait for the other process's settled signal
    assert await _lease(db, started.run_id) == ("queued", "there")


async def test_a_run_waiting_claimed_in_this_process_s_queue_is_cancelled_at_once(
    counted: Worker, db: Database
) -> None:
    launcher = _launcher(counted, DeliversHere())
    started = await launcher.start(_paid_then_gated())
    waiter = counted.live.waiter(started.run_id)
    assert await launcher.cancel(started.run_id) == "cancelled"
    assert await waiter is None
    assert await _lease(db, started.run_id) == ("cancelled", None)
    await counted.process(started.run_id)  # its job, still queued, comes after all
    assert Reach.calls == []
    assert await _lease(db, started.run_id) == ("cancelled", None)


async def test_a_queued_run_another_process_holds_is_not_cancelled_under_it(
    counted: Worker, db: Database, clock: UtcClock
) -> None:
    launcher = _launcher(counted, Queued())
    started = await launcher.start(_paid_then_gated())
    assert await Leases(db, "there", 30, clock).claim(RUNS, started.run_id)
    assert await launcher.cancel(started.run_id) == "cancelling"  # asked of its holder
    assert await _lease(db, started.run_id) == ("queued", "there")


async def test_an_interrupted_run_resumes_without_paying_again(
    worker: Worker, db: Database, clock: UtcClock
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
    clock.advance(1)  # stopping released its lease: it is free at once
    assert await _reaper(worker, queue).reap() == [run_id]
    assert queue.run_ids == [run_id]
    assert await _reaper(worker, queue).reap() == []  # waiting in the queue: not queued twice
    await worker.process(run_id)
    assert Reach.calls == ["paid"]  # once, before the stop
    assert Gate.calls == ["gate", "gate"]
    assert await _status(db, run_id) == ("succeeded", {"paid": "succeeded", "gate": "succeeded"})


async def test_batch_runs_are_left_to_their_batch(worker: Worker, clock: UtcClock) -> None:
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="batch")
    await worker.runner().submit(request)
    clock.advance(3600)
    queue = Queued()
    assert await _reaper(worker, queue).reap() == []
    assert queue.run_ids == []


async def test_a_queued_run_is_reaped_only_after_the_grace_period(
    worker: Worker, db: Database, clock: UtcClock
) -> None:
    compiled = compile_flow(PAID_THEN_GATED, registry())
    row = {"id": "lost", "flow_hash": compiled.digest, "source": "editor", "inputs": {}}
    document = compiled.flow.to_document()
    await db.journal.write(run_writes.create_run({**row, "created_at": clock()}, document))
    queue = Queued()
    clock.advance(60)
    assert await _reaper(worker, queue, grace=120).reap() == []  # its queue may still hold it
    clock.advance(61)
    assert await _reaper(worker, queue, grace=120).reap() == ["lost"]


async def test_a_run_queued_claimed_by_a_process_that_died_is_reaped_once_its_claim_runs_out(
    counted: Worker, db: Database, clock: UtcClock
) -> None:
    started = await _launcher(counted, DeliversHere()).start(_paid_then_gated())  # then it died
    survivor = Worker(db, registry(), counted.runner, LiveRuns(), Leases(db, "there", 30, clock))
    queue = Queued()
    clock.advance(29)
    assert await _reaper(survivor, queue).reap() == []  # still its server's
    clock.advance(2)
    assert await _reaper(survivor, queue).reap() == [started.run_id]  # no grace to wait out
    await survivor.process(started.run_id)
    assert Reach.calls == ["paid"]
    await db.journal.flush()
    assert await _lease(db, started.run_id) == ("succeeded", None)


async def test_a_stopping_process_gives_up_the_runs_still_waiting_in_its_queue(
    counted: Worker, db: Database, clock: UtcClock
) -> None:
    launcher = _launcher(counted, DeliversHere())
    waiting, started = [await launcher.start(_paid_then_gated()) for _ in range(2)]
    await db.journal.write(run_writes.mark_running(started.run_id, "preview"))
    await counted.release_waiting()
    assert await _lease(db, waiting.run_id) == ("queued", None)
    assert await _lease(db, started.run_id) == ("running", "here")  # its own task gives it up
    clock.advance(0.001)
    survivor = Worker(db, registry(), counted.runner, LiveRuns(), Leases(db, "there", 30, clock))
    assert await _reaper(survivor, Queued()).reap() == [waiting.run_id]  # at once, no grace


TWO_PAID = flow(
    [node("a", "reach"), node("b", "reach"), node("c", "gate")],
    [("a.out", "b.in"), ("b.out", "c.in")],
)


async def _left_by_a_dead_process(worker: Worker, db: Database, clock: UtcClock) -> str:
    """What a process killed mid-run leaves: the run `running` under its lease, node `a`
    checkpointed, the paid call of node `b` marked in flight."""
    request = RunRequest(compile_flow(TWO_PAID, registry()), {}, source="trigger")
    run_id = await worker.runner().submit(request)
    dead = Leases(db, "dead", 30, clock)
    assert await dead.claim(RUNS, run_id)
    finished = {"node_id": "a", "node_type": "reach", "status": "succeeded", "inputs": {}}
    await db.journal.write(run_writes.mark_running(run_id, "preview"))
    await db.journal.write(run_writes.insert_nodes(run_id, [{**finished, "outputs": {"out": "x"}}]))
    await db.journal.write(run_writes.mark_in_flight(run_id, "b", "reach"))
    return run_id


async def test_a_run_on_a_live_process_is_left_alone(
    worker: Worker, db: Database, clock: UtcClock
) -> None:
    run_id = await _left_by_a_dead_process(worker, db, clock)
    clock.advance(29)  # its owner's lease still holds
    queue = Queued()
    assert await _reaper(worker, queue).reap() == []
    waiter = worker.live.waiter(run_id)  # a trigger call here waits for it
    await worker.process(run_id)  # a stray job for it: the claim fails, nothing runs
    assert Reach.calls == []
    assert Gate.calls == []
    assert not waiter.done()  # it waits for the owner's settled signal, not woken early


async def test_a_run_whose_owner_died_resumes_and_counts_the_repeated_call(
    worker: Worker, db: Database, clock: UtcClock
) -> None:
    run_id = await _left_by_a_dead_process(worker, db, clock)
    clock.advance(31)  # the owner stopped beating: its lease ran out
    queue = Queued()
    assert await _reaper(worker, queue).reap() == [run_id]
    await worker.process(run_id)
    assert Reach.calls == ["b"]  # `a` was checkpointed: not paid again
    assert Gate.calls == ["c"]
    assert worker.repeated == 1  # `b` was in flight on the dead owner
    assert await _status(db, run_id) == (
        "succeeded",
        {"a": "succeeded", "b": "succeeded", "c": "succeeded"},
    )
    async with db.new_session() as session:
        run = await run_store.get_run(session, run_id)
    assert run is not None
    assert (run.lease_owner, run.lease_expires) == (None, None)  # cleared with the status


async def test_a_run_whose_job_went_stale_is_queued_again_at_each_pass_until_claimed(
    worker: Worker, db: Database, clock: UtcClock
) -> None:
    run_id = await _left_by_a_dead_process(worker, db, clock)
    clock.advance(31)
    queue = Stale()
    reaper = _reaper(worker, queue)
    assert await reaper.reap() == [run_id]
    assert await reaper.reap() == [run_id]  # its new job went stale too (e.g. swept away)
    assert queue.run_ids == [run_id, run_id]
    gate = Gate.barrier = asyncio.Barrier(2)
    Gate.entered = asyncio.Event()
    executing = asyncio.ensure_future(worker.process(run_id))
    await Gate.entered.wait()  # claimed: it executes here
    assert await reaper.reap() == []
    await gate.wait()  # the gate passes
    await executing
    assert await _status(db, run_id) == (
        "succeeded",
        {"a": "succeeded", "b": "succeeded", "c": "succeeded"},
    )


async def test_a_stale_job_delivered_after_the_run_settled_runs_nothing(
    worker: Worker, db: Database, clock: UtcClock
) -> None:
    run_id = await _left_by_a_dead_process(worker, db, clock)
    clock.advance(31)
    await worker.process(run_id)  # the new job: the run resumes and finishes
    assert (Reach.calls, Gate.calls) == (["b"], ["c"])
    waiter = worker.live.waiter(run_id)
    await worker.process(run_id)  # the dead worker's job, delivered late (a retry, a sweep)
    assert (Reach.calls, Gate.calls) == (["b"], ["c"])  # nothing paid again
    assert worker.repeated == 1
    assert await waiter is None  # not executed here: its waiters read its record


async def test_a_stale_job_of_a_run_executing_here_does_not_start_it_twice(
    worker: Worker, db: Database, clock: UtcClock
) -> None:
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="trigger")
    run_id = await worker.runner().submit(request)
    gate = Gate.barrier = asyncio.Barrier(2)
    Gate.entered = asyncio.Event()
    first = asyncio.ensure_future(worker.process(run_id))
    await Gate.entered.wait()
    clock.advance(31)  # this process stalled past its lease: the run looks free
    await worker.process(run_id)  # a second job for it, delivered here
    assert Reach.calls == ["paid"]
    assert Gate.calls == ["gate"]
    assert worker.live.get(run_id) is not None  # the first execution goes on
    await gate.wait()
    await first
    assert (Reach.calls, Gate.calls) == (["paid"], ["gate"])
    assert await _status(db, run_id) == ("succeeded", {"paid": "succeeded", "gate": "succeeded"})


async def test_a_paid_call_under_way_is_marked_in_flight_until_it_settles(
    worker: Worker, db: Database
) -> None:
    request = RunRequest(compile_flow(TWO_PAID, registry()), {}, source="trigger")
    run_id = await worker.runner().submit(request)
    Reach.hold, Reach.entered = asyncio.Event(), asyncio.Event()
    task = asyncio.ensure_future(worker.process(run_id))
    await Reach.entered.wait()
    await db.journal.flush()
    async with db.new_session() as session:
        assert await run_store.in_flight_nodes(session, run_id) == ["a"]
        run = await run_store.get_run(session, run_id)
    assert run is not None
    assert run.lease_owner == "here"
    Reach.hold.set()
    await task
    async with db.new_session() as session:
        assert await run_store.in_flight_nodes(session, run_id) == []
    assert worker.repeated == 0


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


async def test_a_run_a_worker_claimed_is_not_cancelled_under_it(
    worker: Worker, db: Database, clock: UtcClock
) -> None:
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="trigger")
    run_id = await worker.runner().submit(request)
    assert await worker.leases.claim(RUNS, run_id)  # a worker just took it: still queued
    async with db.new_session() as session, session.begin():
        assert await run_store.cancel_queued(session, run_id, clock(), "elsewhere") is False
    assert (await _status(db, run_id))[0] == "queued"
    assert await worker.leases.release(RUNS, run_id)  # it gave it up again
    clock.advance(1)
    async with db.new_session() as session, session.begin():
        assert await run_store.cancel_queued(session, run_id, clock(), "elsewhere") is True
    assert (await _status(db, run_id))[0] == "cancelled"
    assert not await worker.leases.claim(RUNS, run_id)  # no worker takes it any more


class CancelledOnClaim(Leases):
    """Leases whose claim is followed at once by a cancel request for the run."""

    cancel: Callable[[str], bool] = staticmethod(lambda _: False)
    heard: list[bool] = []

    async def claim(self, leased: Leased, key: Any) -> bool:
        won = await super().claim(leased, key)
        self.heard.append(self.cancel(str(key)))
        return won


async def test_a_run_cancelled_while_a_worker_claims_it_does_not_start(
    db: Database, services: Services, clock: UtcClock
) -> None:
    leases = CancelledOnClaim(db, "here", 30, clock)
    worker = Worker(db, registry(), lambda: Runner(db, services, "preview"), LiveRuns(), leases)
    leases.cancel, leases.heard = worker.cancel_here, []
    request = RunRequest(compile_flow(PAID_THEN_GATED, registry()), {}, source="trigger")
    run_id = await worker.runner().submit(request)
    waiter = worker.live.waiter(run_id)
    await worker.process(run_id)
    assert leases.heard == [True]  # the cancel request found it here, starting
    assert await waiter is None
    assert Reach.calls == []
    await db.journal.flush()
    async with db.new_session() as session:
        run = await run_store.get_run(session, run_id)
    assert run is not None
    assert (run.status, run.error, run.lease_owner) == (
        "cancelled",
        "cancelled before it started",
        None,
    )
