"""`InProcessQueue` beyond the queue contract (tests/contracts/test_job_queue.py)."""

from __future__ import annotations

import asyncio

import pytest

from plait.engine.queue import InProcessQueue


async def test_a_job_before_start_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not been started"):
        await InProcessQueue(1).enqueue("r1")


async def test_jobs_start_as_tasks_without_waiting_for_each_other() -> None:
    queue = InProcessQueue(8)
    started: list[str] = []
    release = asyncio.Event()

    async def handle(run_id: str) -> None:
        started.append(run_id)
        await release.wait()

    await queue.start(handle)
    await queue.enqueue("r1")
    await queue.enqueue("r2")  # returns though r1 has not finished
    for _ in range(5):
        await asyncio.sleep(0)
    assert started == ["r1", "r2"]
    await queue.close()  # cancels both
    release.set()
