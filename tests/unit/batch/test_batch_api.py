"""The Batch API job pool in process: how calls are grouped into jobs, keyed and answered.

The real SDK talks to the fake Gemini; rows run through the real driver on real SQLite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plait.batch.batch_api import MAX_BYTES, MAX_REQUESTS, JobPool, request_digest
from plait.batch.driver import BatchJob, Driver, Tally, create, plan
from plait.batch.limiter import AimdLimiter
from plait.batch.rows import Row
from plait.flows.validate import CompiledFlow, compile_flow
from plait.providers.base import ImagePart, ImageRequest, TextPart
from plait.providers.gemini import GeminiProvider
from plait.providers.gemini_batch import GeminiBatchApi
from plait.runtime import Runtime, open_runtime
from plait.settings import Settings
from plait.store import batch_jobs
from plait.store import batches as store
from tests.fakes.gemini import FakeGemini
from tests.helpers import flow, node


@pytest.fixture
async def runtime(tmp_path: Path, gemini_fake: FakeGemini) -> AsyncIterator[Runtime]:
    settings = Settings(
        PLAIT_DATA_DIR=tmp_path,
        GEMINI_API_KEY="test-key",
        PLAIT_GEMINI_BASE_URL=gemini_fake.base_url,
    )
    async with open_runtime(settings) as opened:
        yield opened


def _compiled(runtime: Runtime, images: int = 1) -> CompiledFlow:
    nodes = [
        node("trigger", "http_trigger"),
        node("image", "image", prompt="{{ trigger.prompt }}", number_of_images=images),
        node("respond", "respond", fields=[{"name": "image"}]),
    ]
    return compile_flow(flow(nodes, [("image.image", "respond.image")]), runtime.registry)


async def _run(
    runtime: Runtime, compiled: CompiledFlow, rows: int, *, max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> tuple[str, JobPool]:  # fmt: skip
    given = [Row(i, {"prompt": f"p{i}"}, {"prompt": f"p{i}"}) for i in range(1, rows + 1)]
    batch_id = await create(
        runtime, compiled, given, flow_path=Path("f.json"), rows_path=Path("r.csv"),
        trigger_id="trigger", out_dir=None, batch_api=True,
    )  # fmt: skip
    gemini = runtime.provider()
    assert isinstance(gemini, GeminiProvider)
    pool = JobPool(
        GeminiBatchApi(gemini),
        runtime.db,
        batch_id,
        poll_seconds=0.01,
        max_requests=max_requests,
        max_bytes=max_bytes,
    )
    job = BatchJob(batch_id, compiled, "trigger", None, None)
    driver = Driver(
        runtime, job, AimdLimiter(100), per_row_usd=0, budget_usd=None, tally=Tally(rows), pool=pool
    )
    try:
        await driver.run(await plan(runtime, batch_id, (store.PENDING,)))
    finally:
        await pool.aclose()
    return batch_id, pool


def _inlined(fake: FakeGemini) -> list[list[str]]:
    """The prompt of each inlined request of each job submitted."""
    jobs = [c.body["batch"]["inputConfig"]["requests"]["requests"] for c in fake.batch_creates()]
    return [[r["request"]["contents"][0]["parts"][0]["text"] for r in job] for job in jobs]


async def _rows(runtime: Runtime, batch_id: str) -> list[tuple[str, str | None]]:
    async with runtime.db.new_session() as session:
        return [(r.status, r.error) for r in await store.rows_of(session, batch_id)]


async def test_a_job_holds_at_most_max_requests(runtime: Runtime, gemini_fake: FakeGemini) -> None:
    batch_id, pool = await _run(runtime, _compiled(runtime), 5, max_requests=2)

    sizes = sorted(len(prompts) for prompts in _inlined(gemini_fake))
    assert sizes == [1, 2, 2]
    assert sorted(p for job in _inlined(gemini_fake) for p in job) == [f"p{i}" for i in range(1, 6)]
    assert [status for status, _ in await _rows(runtime, batch_id)] == ["succeeded"] * 5
    async with runtime.db.new_session() as session:
        jobs = await batch_jobs.jobs_of(session, batch_id)
    assert [j.state for j in jobs] == ["SUCCEEDED"] * 3
    assert pool.describe().startswith("jobs: 3 SUCCEEDED · 5 requests · 0:00:")


async def test_a_job_holds_at_most_max_bytes_of_inline_data(
    runtime: Runtime, gemini_fake: FakeGemini
) -> None:
    await _run(runtime, _compiled(runtime), 3, max_bytes=1100)  # two ~520-byte requests fit

    assert sorted(len(prompts) for prompts in _inlined(gemini_fake)) == [1, 2]


async def test_equal_calls_of_one_node_are_separate_requests(
    runtime: Runtime, gemini_fake: FakeGemini
) -> None:
    batch_id, _ = await _run(runtime, _compiled(runtime, images=2), 2)

    [job] = _inlined(gemini_fake)
    assert sorted(job) == ["p1", "p1", "p2", "p2"]
    async with runtime.db.new_session() as session:
        [stored] = await batch_jobs.jobs_of(session, batch_id)
    keys = sorted(str(r["key"]) for r in stored.requests)
    assert [k.split(".")[:3] + k.split(".")[-1:] for k in keys] == [
        ["1", "1", "image", "0"], ["1", "1", "image", "1"],
        ["2", "1", "image", "0"], ["2", "1", "image", "1"],
    ]  # fmt: skip


async def test_a_refused_submission_fails_every_row_of_the_job_with_the_reason(
    runtime: Runtime, gemini_fake: FakeGemini
) -> None:
    gemini_fake.api_key = "another key"

    batch_id, _ = await _run(runtime, _compiled(runtime), 2)

    rows = await _rows(runtime, batch_id)
    assert [status for status, _ in rows] == ["failed", "failed"]
    assert all("Gemini rejected the API key" in (error or "") for _, error in rows)
    async with runtime.db.new_session() as session:
        assert await batch_jobs.jobs_of(session, batch_id) == []


def test_the_digest_is_equal_for_equal_requests_and_sees_image_content() -> None:
    def request(image: bytes, prompt: str = "p") -> ImageRequest:
        parts = (TextPart(prompt), ImagePart(image, "image/png"))
        return ImageRequest("gemini-2.5-flash-image", parts, "1:1")

    assert request_digest(request(b"a")) == request_digest(request(b"a"))
    assert request_digest(request(b"a")) != request_digest(request(b"b"))
    assert request_digest(request(b"a")) != request_digest(request(b"a", "q"))
