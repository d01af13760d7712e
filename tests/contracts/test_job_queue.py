"""The `JobQueue` contract: a job is a run id handed to the handler, at most `concurrency`
at a time; a failing job does not stop the others; `close` stops running jobs; a run
waiting or running is queued once (`enqueue`, `requeue`), a waiting one keeps its place,
and `requeue` hands a run whose job went stale (taken by a worker that is gone) to a
live worker.

Run against the in-process queue and `SaqQueue` on a real Redis (`redis_url`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from plait.engine.db_queue import DatabaseQueue
from plait.engine.queue import InProcessQueue, JobQueue
from plait.engine.saq_queue import SaqQueue
from plait.store.db import Database

# each made from the test's request, a database of its own and the concurrency
QUEUES: dict[str, Callable[[pytest.FixtureRequest, Database, int], JobQueue]] = {
    "in-process": lambda _, __, concurrency: InProcessQueue(concurrency),
    "saq on redis": lambda request, _, concurrency: SaqQueue(
        request.getfixturevalue("redis_url"), concurrency
    ),
    # the runs table as the queue (plait worker without Redis)
    "database": lambda _, db, concurrency: DatabaseQueue(db, concurrency),
}


@pytest.fixture(params=sorted(QUEUES))
async def make_queue(
    request: pytest.FixtureRequest, db: Database
) -> AsyncIterator[Callable[[int], JobQueue]]:
    made: list[JobQueue] = []

    def make(concurrency: int) -> JobQueue:
        made.append(QUEUES[request.param](request, db, concurrency))
        return made[-1]

    yield make
    for queue in made:
        await queue.close()


class Jobs:
    """A handler whose jobs wait until released; it records what started and finished."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.release = asyncio.Event()
        self.changed = asyncio.Condition()

    async def handle(self, run_id: str) -> None:
        async with self.changed:
            self.started.append(run_id)
            self.changed.notify_all()
        await self.release.wait()
        if run_id.startswith("bad"):
            raise RuntimeError(f"job {run_id} broke")
        async with self.changed:
            self.finished.append(run_id)
            self.changed.notify_all()

    async def until(self, check: Callable[[], bool]) -> None:
        async with asyncio.timeout(30), self.changed:
            await self.changed.wait_for(check)


MakeQueue = Callable[[int], JobQueue]


async def started(
    make_queue: MakeQueue, concurrency: int, run_ids: list[str], *, released: bool
) -> tuple[JobQueue, Jobs]:
    """A started queue of `concurrency` holding these jobs (held until released)."""
    queue, jobs = make_queue(concurrency), Jobs()
    if released:
        jobs.release.set()
    await queue.start(jobs.handle)
    for run_id in run_ids:
        await queue.enqueue(run_id)
    return queue, jobs


async def test_every_job_reaches_the_handler_with_its_run_id(make_queue: MakeQueue) -> None:
    _, jobs = await started(make_queue, 4, ["r1", "r2", "r3"], released=True)
    await jobs.until(lambda: len(jobs.finished) == 3)
    assert sorted(jobs.finished) == ["r1", "r2", "r3"]


async def test_at_most_concurrency_jobs_run_at_once(make_queue: MakeQueue) -> None:
    _, jobs = await started(make_queue, 2, [f"r{n}" for n in range(5)], released=False)
    await jobs.until(lambda: len(jobs.started) == 2)
    for _ in range(10):  # give the others every chance to start (they must not)
        await asyncio.sleep(0)
    assert len(jobs.started) == 2
    jobs.release.set()
    await jobs.until(lambda: len(jobs.finished) == 5)
    assert sorted(jobs.started) == [f"r{n}" for n in range(5)]


async def test_a_failing_job_does_not_stop_the_others(make_queue: MakeQueue) -> None:
    _, jobs = await started(make_queue, 1, ["bad1", "r1", "bad2", "r2"], released=True)
    await jobs.until(lambda: len(jobs.finished) == 2)
    assert jobs.finished == ["r1", "r2"]
    assert jobs.started == ["bad1", "r1", "bad2", "r2"]


async def test_close_stops_running_jobs(make_queue: MakeQueue) -> None:
    queue, jobs = await started(make_queue, 2, ["r1"], released=False)
    await jobs.until(lambda: jobs.started == ["r1"])
    await asyncio.wait_for(queue.close(), 30)  # the job never released: it was stopped
    jobs.release.set()
    await asyncio.sleep(0)
    assert jobs.finished == []


async def test_a_run_waiting_or_running_is_queued_once_and_keeps_its_place(
    make_queue: MakeQueue,
) -> None:
    queue, jobs = await started(make_queue, 1, ["r1", "r2", "r3"], released=False)
    await jobs.until(lambda: jobs.started == ["r1"])
    await queue.enqueue("r1")  # running
    await queue.enqueue("r2")  # waiting
    assert await queue.requeue("r2") is False  # its job waits: left in its place
    jobs.release.set()
    await jobs.until(lambda: len(jobs.finished) == 3)
    assert jobs.started == ["r1", "r2", "r3"]


async def test_a_run_whose_job_went_stale_is_requeued_to_a_live_worker(
    make_queue: MakeQueue,
) -> None:
    _, taken = await started(make_queue, 1, ["r1"], released=False)  # its worker is gone
    await taken.until(lambda: taken.started == ["r1"])  # taken, and never to finish
    live, jobs = await started(make_queue, 1, [], released=True)
    assert await live.requeue("r1") is True  # its lease expired: the job is stale
    await jobs.until(lambda: "r1" in jobs.finished)
    assert jobs.finished == ["r1"]
