"""The batch driver in process (preview backend): what a resume adopts, what it starts anew."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from plait.batch.driver import (
    BatchJob,
    Driver,
    Tally,
    create,
    plan,
    run_key,
)
from plait.batch.limiter import AimdLimiter
from plait.batch.rows import Row
from plait.engine.runner import RunRequest
from plait.flows.validate import CompiledFlow, compile_flow
from plait.media.image_ref import ImageRef
from plait.providers.base import GeneratedImage, ImageRequest, ImageResult
from plait.runtime import Runtime, open_runtime
from plait.settings import Settings
from plait.store import batches as store
from plait.store import run_writes
from tests.helpers import flow, node, png

IMAGE = ImageRef("0" * 64, "image/png", 8, 6, 100)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(PLAIT_DATA_DIR=tmp_path, PLAIT_IMAGE_BACKEND="preview")
    async with open_runtime(settings) as opened:
        yield opened


def _compiled(runtime: Runtime) -> CompiledFlow:
    nodes = [
        node("trigger", "http_trigger"),
        node("image", "image", prompt="{{ trigger.prompt }}"),
        node("respond", "respond", fields=[{"name": "image"}]),
    ]
    return compile_flow(flow(nodes, [("image.image", "respond.image")]), runtime.registry)


async def _batch(runtime: Runtime, compiled: CompiledFlow, n: int, tmp: Path) -> str:
    rows = [Row(i, {"prompt": f"p{i}"}, {"prompt": f"p{i}"}) for i in range(1, n + 1)]
    return await create(
        runtime, compiled, rows, flow_path=tmp / "f.json", rows_path=tmp / "r.csv",
        trigger_id="trigger", out_dir=None,
    )  # fmt: skip


async def _statuses(runtime: Runtime, batch_id: str) -> list[str]:
    async with runtime.db.new_session() as session:
        return [r.status for r in await store.rows_of(session, batch_id)]


async def test_a_run_whose_link_a_crash_lost_is_adopted_not_repeated(
    runtime: Runtime, tmp_path: Path
) -> None:
    compiled = _compiled(runtime)
    batch_id = await _batch(runtime, compiled, 3, tmp_path)
    runner = runtime.runner()
    request = RunRequest(
        compiled, {"prompt": "p2"}, source="batch", trigger_id="trigger",
        idempotency_key=run_key(batch_id, 2, 1),
    )  # fmt: skip
    orphan = await runner.submit(request)  # the crash came before the row was linked

    work = await plan(runtime, batch_id, (store.PENDING,))

    assert [(w.number, w.run_id, w.attempt) for w in work] == [
        (2, orphan, 1),  # runs already started come first
        (1, None, 1),
        (3, None, 1),
    ]
    job = BatchJob(batch_id, compiled, "trigger", tmp_path, None)
    driver = Driver(runtime, job, AimdLimiter(2), per_row_usd=0.0, budget_usd=None, tally=Tally(3))
    outcome = await driver.run(work)
    assert outcome.tally.succeeded == 3
    async with runtime.db.new_session() as session:
        rows = await store.rows_of(session, batch_id)
    assert rows[1].run_id == orphan


async def test_a_cancelled_attempt_starts_again_with_what_it_finished(
    runtime: Runtime, tmp_path: Path
) -> None:
    compiled = _compiled(runtime)
    batch_id = await _batch(runtime, compiled, 1, tmp_path)
    runner = runtime.runner()
    request = RunRequest(compiled, {"prompt": "p1"}, source="batch", trigger_id="trigger")
    run_id = await runner.submit(request)
    image_done = {
        "node_id": "image", "node_type": "image", "status": "succeeded", "inputs": {},
        "outputs": {"image": IMAGE.to_json()}, "backend": "preview", "input_tokens": 0,
        "output_tokens": 0, "cost_usd": 0.0, "cache_hit": False, "error": None,
        "error_port": None, "started_at": None, "finished_at": None, "duration_ms": None,
    }  # fmt: skip
    await runtime.db.journal.write(run_writes.insert_nodes(run_id, [image_done]))
    await runtime.db.journal.write(
        run_writes.finish_run(run_id, {"status": "cancelled", "error": "interrupted"}, [])
    )
    await runtime.db.journal.write(
        store.update_row(batch_id, 1, status=store.RUNNING, run_id=run_id, attempts=1)
    )

    (work,) = await plan(runtime, batch_id, (store.RUNNING,))

    assert (work.run_id, work.attempt) == (None, 2)
    assert work.carried == {"image": {"image": IMAGE}}  # as the executor takes them


async def test_the_budget_counts_the_estimate_of_rows_in_flight(
    runtime: Runtime, tmp_path: Path
) -> None:
    compiled = _compiled(runtime)
    batch_id = await _batch(runtime, compiled, 5, tmp_path)
    job = BatchJob(batch_id, compiled, "trigger", tmp_path, None)
    # preview rows record no cost: only the $1 estimate of each row in flight counts
    driver = Driver(runtime, job, AimdLimiter(3), per_row_usd=1.0, budget_usd=2.5, tally=Tally(5))
    outcome = await driver.run(await plan(runtime, batch_id, (store.PENDING,)))
    assert outcome.stopped_by_budget
    assert await _statuses(runtime, batch_id) == ["succeeded"] * 2 + ["skipped"] * 3
    assert outcome.tally.skipped == 3


class HeldProvider:
    """The provider seam: every call waits until the test lets them all answer."""

    name = "preview"
    model_list = None

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.answer = asyncio.Event()

    async def generate(self, request: ImageRequest) -> ImageResult:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await self.answer.wait()
        finally:
            self.in_flight -= 1
        return ImageResult([GeneratedImage(png(8, 8), "image/png")], backend=self.name)

    async def aclose(self) -> None:
        pass


class CountingLimiter(AimdLimiter):
    """Tells when `wanted` slots have been asked for; notes the rows in flight at each ask."""

    def __init__(self, ceiling: int, wanted: int):
        super().__init__(ceiling)
        self.asked = 0
        self.wanted = wanted
        self.all_asked = asyncio.Event()
        self.rows: Callable[[], int] = lambda: 0
        self.rows_at_ask: list[int] = []

    async def acquire(self) -> float:
        self.asked += 1
        self.rows_at_ask.append(self.rows())
        if self.asked == self.wanted:
            self.all_asked.set()
        return await super().acquire()


async def test_the_limit_bounds_the_calls_in_flight_and_rows_get_ready_around_them(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldProvider()
    monkeypatch.setattr(runtime.provider, "_provider", held)  # what the runtime hands out
    compiled = _compiled(runtime)
    batch_id = await _batch(runtime, compiled, 10, tmp_path)
    job = BatchJob(batch_id, compiled, "trigger", tmp_path, None)
    limiter = CountingLimiter(4, wanted=5)
    driver = Driver(runtime, job, limiter, per_row_usd=0.0, budget_usd=None, tally=Tally(10))
    limiter.rows = lambda: driver.in_flight
    running = asyncio.create_task(driver.run(await plan(runtime, batch_id, (store.PENDING,))))

    async with asyncio.timeout(30):
        await limiter.all_asked.wait()  # four calls hold the slots, a fifth row waits for one
    assert (held.in_flight, limiter.in_flight, driver.in_flight) == (4, 4, 5)
    # a quarter of the limit (one row) at a time gets ready outside a call
    assert limiter.rows_at_ask == [1, 2, 3, 4, 5]
    assert gc.get_freeze_count() > 0  # what existed at the start: out of full collections

    held.answer.set()
    async with asyncio.timeout(30):
        outcome = await running
    assert outcome.tally.succeeded == 10
    assert held.most == 4
    assert limiter.in_flight == 0
    assert gc.get_freeze_count() == 0


async def test_a_flow_that_calls_no_image_model_has_the_limit_bound_its_rows(
    runtime: Runtime, tmp_path: Path
) -> None:
    respond = node("respond", "respond", fields=[{"name": "x", "value": "{{ trigger.x }}"}])
    nodes = [node("trigger", "http_trigger", fields=[{"name": "x"}]), respond]
    compiled = compile_flow(flow(nodes), runtime.registry)
    job = BatchJob("b", compiled, "trigger", tmp_path, None)
    driver = Driver(runtime, job, AimdLimiter(4), per_row_usd=0.0, budget_usd=None, tally=Tally(9))

    driver.in_flight = 3
    assert driver._may_start()
    driver.in_flight = 4  # no call would ever take a slot: rows count instead
    assert not driver._may_start()
