"""`SaqQueue` across processes on a real Redis: a process that only enqueues, a run queued
twice, a job whose worker stopped or died (`kill -9`) picked up by another worker (by
SAQ's sweep, or at once by `requeue`)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from plait.engine.saq_queue import SaqQueue


class Handled:
    """A handler that records each run id it is given and waits until released."""

    def __init__(self, *, hold: bool = False) -> None:
        self.run_ids: list[str] = []
        self.release = asyncio.Event()
        self.changed = asyncio.Condition()
        if not hold:
            self.release.set()

    async def handle(self, run_id: str) -> None:
        async with self.changed:
            self.run_ids.append(run_id)
            self.changed.notify_all()
        await self.release.wait()

    async def until(self, check: Callable[[], bool], seconds: float = 60) -> None:
        async with asyncio.timeout(seconds), self.changed:
            await self.changed.wait_for(check)


@asynccontextmanager
async def queue(redis_url: str, concurrency: int = 4) -> AsyncIterator[SaqQueue]:
    made = SaqQueue(redis_url, concurrency, heartbeat_seconds=1, sweep_seconds=1)
    try:
        yield made
    finally:
        await made.close()


async def test_a_process_that_only_enqueues_hands_its_jobs_to_a_worker(redis_url: str) -> None:
    handled = Handled()
    async with queue(redis_url) as web, queue(redis_url) as worker:
        for run_id in ("r1", "r2"):
            await web.enqueue(run_id)  # never started: it consumes nothing
        await worker.start(handled.handle)
        await handled.until(lambda: len(handled.run_ids) == 2)
    assert sorted(handled.run_ids) == ["r1", "r2"]


async def test_a_run_queued_twice_while_waiting_runs_once(redis_url: str) -> None:
    handled = Handled()
    async with queue(redis_url) as web, queue(redis_url) as worker:
        await web.enqueue("r1")
        await web.enqueue("r1")  # e.g. the lease reaper and a retry at once
        await web.enqueue("r2")
        await worker.start(handled.handle)
        await handled.until(lambda: "r2" in handled.run_ids)
        await web.enqueue("r3")  # a later job behind them: r1 would have come before it
        await handled.until(lambda: "r3" in handled.run_ids)
    assert sorted(handled.run_ids) == ["r1", "r2", "r3"]


async def test_a_job_stopped_by_close_goes_to_the_next_worker(redis_url: str) -> None:
    first, second = Handled(hold=True), Handled()
    async with queue(redis_url) as stopping:
        await stopping.start(first.handle)
        await stopping.enqueue("r1")
        await first.until(lambda: first.run_ids == ["r1"])
    async with queue(redis_url) as taking_over:
        await taking_over.start(second.handle)
        await second.until(lambda: second.run_ids == ["r1"])


_DOOMED_WORKER = """
import asyncio, sys
from plait.engine.saq_queue import SaqQueue

async def main() -> None:
    queue = SaqQueue(sys.argv[1], 1, heartbeat_seconds=int(sys.argv[2]), sweep_seconds=1)
    async def handle(run_id: str) -> None:
        print("started", run_id, flush=True)
        await asyncio.Event().wait()
    await queue.start(handle)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def _taken_by_a_killed_worker(redis_url: str, heartbeat: int) -> None:
    """A worker process (its jobs' heartbeat `heartbeat` seconds) takes the waiting job
    and is killed with SIGKILL while it runs."""
    doomed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _DOOMED_WORKER,
        redis_url,
        str(heartbeat),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert doomed.stdout is not None
        line = await asyncio.wait_for(doomed.stdout.readline(), 60)
        assert line.decode().split() == ["started", "r1"]
    finally:
        doomed.send_signal(signal.SIGKILL)
        await doomed.wait()


async def test_the_job_of_a_killed_worker_is_not_lost(redis_url: str) -> None:
    handled = Handled()
    async with queue(redis_url) as survivor:
        await survivor.enqueue("r1")
        await _taken_by_a_killed_worker(redis_url, heartbeat=1)
        await survivor.start(handled.handle)  # its sweep finds the job without a heartbeat
        await handled.until(lambda: handled.run_ids == ["r1"])


async def test_requeue_hands_a_killed_workers_job_over_before_its_heartbeat_runs_out(
    redis_url: str,
) -> None:
    """What the lease reaper does once the run's lease expired: SAQ would keep the dead
    worker's job (heartbeat 60 s) and queuing the run again would do nothing."""
    handled = Handled()
    survivor = SaqQueue(redis_url, 4, heartbeat_seconds=60, sweep_seconds=1)
    try:
        await survivor.enqueue("r1")
        await _taken_by_a_killed_worker(redis_url, heartbeat=60)
        await survivor.start(handled.handle)
        await survivor.enqueue("r1")  # the dead worker's job holds the key: nothing happens
        assert await survivor.requeue("r1") is True  # it is replaced
        await handled.until(lambda: handled.run_ids == ["r1"], seconds=30)
    finally:
        await survivor.close()
