"""The Batch API job pool in process: how calls are grouped into jobs, keyed and answered.

The real SDK talks to the fake Gemini; rows run through the real driver on real SQLite.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from plait.batch.batch_api import JobPool, request_digest
from plait.batch.driver import BatchJob, Driver, Tally, create, plan
from plait.batch.limiter import AimdLimiter
from plait.batch.rows import Row
from plait.flows.validate import CompiledFlow, compile_flow
from plait.providers.base import ImagePart, ImageRequest, TextPart
from plait.providers.gemini import GeminiProvider
from plait.providers.gemini_batch import INLINE_LIMIT_BYTES, GeminiBatchApi
from plait.runtime import Runtime, open_runtime
from plait.settings import Settings
from plait.store import batch_jobs
from plait.store import batches as store
from tests.fakes.gemini import FakeGemini, Fault, generate
from tests.helpers import flow, node


@pytest.fixture
async def runtime(tmp_path: Path, gemini_fake: FakeGemini) -> AsyncIterator[Runtime]:
    settings = Settings(
        PLAIT_DATA_DIR=tmp_path,
        GEMINI_API_KEY="test-key",
        PLAIT_GEMINI_BASE_URL=gemini_fake.base_url,
        PLAIT_GEMINI_ATTEMPTS=1,  # a failed poll is not retried (with real waits) in place
    )
    async with open_runtime(settings) as opened:
        yield opened


def _compiled(runtime: Runtime, images: int = 1) -> CompiledFlow:
    nodes = [
        node("trigger", "http_trigger"),
        node(  # pinned: the prices and messages these tests count with
            "image",
            "image",
            model="gemini-2.5-flash-image",
            prompt="{{ trigger.prompt }}",
            number_of_images=images,
        ),
        node("respond", "respond", fields=[{"name": "image"}]),
    ]
    return compile_flow(flow(nodes, [("image.image", "respond.image")]), runtime.registry)


async def _run(
    runtime: Runtime,
    compiled: CompiledFlow,
    rows: int,
    *,
    out: Path | None = None,
    inline_limit: int = INLINE_LIMIT_BYTES,
    **options: Any,
) -> tuple[str, JobPool]:
    given = [Row(i, {"prompt": f"p{i}"}, {"prompt": f"p{i}"}) for i in range(1, rows + 1)]
    batch_id = await create(
        runtime, compiled, given, flow_path=Path("f.json"), rows_path=Path("r.csv"),
        trigger_id="trigger", out_dir=out, batch_api=True,
    )  # fmt: skip
    job = BatchJob(batch_id, compiled, "trigger", None, out)
    pool = await _drive(runtime, job, rows, (store.PENDING,), inline_limit, **options)
    return batch_id, pool


async def _drive(
    runtime: Runtime,
    job: BatchJob,
    rows: int,
    statuses: tuple[str, ...],
    inline_limit: int = INLINE_LIMIT_BYTES,
    limiter: AimdLimiter | None = None,
    **options: Any,
) -> JobPool:
    """Run the batch's rows of these statuses (`store.FAILED`: plait batch --retry-failed)."""
    gemini = runtime.provider()
    assert isinstance(gemini, GeminiProvider)
    limiter = limiter or AimdLimiter(100)
    api = GeminiBatchApi(gemini, inline_limit=inline_limit, online_signals=limiter)
    pool = JobPool(api, runtime.db, job.batch_id, **{"poll_seconds": 0.01, **options})
    await pool.load()
    driver = Driver(
        runtime, job, limiter, per_row_usd=0, budget_usd=None, tally=Tally(rows), pool=pool
    )
    try:
        await driver.run(await plan(runtime, job.batch_id, statuses))
    finally:
        await pool.aclose()
    return pool


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


async def test_a_job_over_the_inline_limit_goes_through_a_request_file(
    runtime: Runtime, gemini_fake: FakeGemini, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    batch_id, _ = await _run(
        runtime, _compiled(runtime), 3, out=out, inline_limit=500
    )  # ~200 B a request

    [create_call] = gemini_fake.batch_creates()
    source = create_call.body["batch"]["inputConfig"]
    [(uploaded, data)] = gemini_fake.files.uploaded()
    assert source == {"fileName": uploaded["name"]}  # no inline requests
    lines = [json.loads(line) for line in data.decode().splitlines()]
    async with runtime.db.new_session() as session:
        [stored] = await batch_jobs.jobs_of(session, batch_id)
    assert sorted(line["key"] for line in lines) == sorted(str(r["key"]) for r in stored.requests)
    assert len(gemini_fake.file_downloads()) == 1  # the result file, read once
    assert [status for status, _ in await _rows(runtime, batch_id)] == ["succeeded"] * 3
    model = gemini_fake.catalog.get(create_call.model or "")
    for line in lines:  # each row's image is the one Gemini made for its own request
        prompt = line["request"]["contents"][0]["parts"][0]["text"]
        answer = generate(model, line["request"])
        [image] = [p for p in answer["candidates"][0]["content"]["parts"] if "inlineData" in p]
        row = int(prompt.removeprefix("p"))
        written = (out / f"row-{row:05d}-image.png").read_bytes()
        assert written == base64.b64decode(image["inlineData"]["data"])


async def test_a_result_file_that_fails_to_download_is_fetched_again_at_the_next_poll(
    runtime: Runtime, gemini_fake: FakeGemini
) -> None:
    gemini_fake.batch_delay = 0.2  # polled, not done at creation
    gemini_fake.fail_downloads(1)

    batch_id, _ = await _run(runtime, _compiled(runtime), 2, inline_limit=300)

    assert [status for status, _ in await _rows(runtime, batch_id)] == ["succeeded"] * 2
    assert len(gemini_fake.file_downloads()) == 2


async def test_a_job_within_the_inline_limit_stays_inline(
    runtime: Runtime, gemini_fake: FakeGemini
) -> None:
    await _run(runtime, _compiled(runtime), 3, inline_limit=100_000)

    assert sorted(len(prompts) for prompts in _inlined(gemini_fake)) == [3]
    assert gemini_fake.files.uploaded() == []


@pytest.mark.parametrize("inline_limit", [INLINE_LIMIT_BYTES, 500], ids=["inline", "file"])
async def test_a_row_error_names_its_grpc_code_and_says_whether_it_is_temporary(
    runtime: Runtime, gemini_fake: FakeGemini, inline_limit: int
) -> None:
    gemini_fake.fail(Fault.error(503), Fault.error(400, "Request contains an invalid argument."))

    batch_id, _ = await _run(runtime, _compiled(runtime), 3, inline_limit=inline_limit)

    rows = await _rows(runtime, batch_id)
    errors = sorted(error for status, error in rows if status == "failed" and error)
    assert len(rows) == 3
    temporary, refused = errors  # "… batches/fake1 could …" sorts before "… refused …"
    assert temporary.startswith(
        "node 'image': Gemini's batch job batches/fake1 could not answer this row's request to "
        "gemini-2.5-flash-image (UNAVAILABLE: The model is overloaded. Please try again later). "
        "This is temporary on Google's side, not the row's fault"
    )
    assert refused.startswith(
        "node 'image': Gemini's batch job batches/fake1 refused this row's request to "
        "gemini-2.5-flash-image (INVALID_ARGUMENT: Request contains an invalid argument). "
        "Gemini could not take this row's request as given: check the prompt"
    )


class FakeTime:
    """The pool's clock and sleep: a sleep moves the clock on at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def _unreported_job(runtime: Runtime, fake: FakeGemini) -> tuple[BatchJob, list[int]]:
    """Four rows in two jobs; Google never reports the second: its rows fail after the
    poll timeout (600 s of the fake clock, polled every 60 s). The job and its rows."""
    fake.fail_polls(10**6, name="batches/fake2")
    fake.batch_delay = 0.2  # the jobs are polled (the first ends after 0.2 s of real time)
    time = FakeTime()
    compiled = _compiled(runtime)
    options: dict[str, Any] = {
        "poll_seconds": 60,
        "poll_timeout": 600,
        "clock": time.clock,
        "sleep": time.sleep,
    }
    batch_id, _ = await _run(runtime, compiled, 4, max_requests=2, **options)
    polls = [r for r in fake.batch_polls() if r.path.endswith("/batches/fake2")]
    assert len(polls) == 11  # at 0, 60, …, 600 s after the first failed poll, then given up
    async with runtime.db.new_session() as session:
        jobs = {j.name: j for j in await batch_jobs.jobs_of(session, batch_id)}
    assert [jobs[n].state for n in ("batches/fake1", "batches/fake2")] == [
        "SUCCEEDED",
        "UNREPORTED",
    ]
    unreported = sorted(int(r["row"]) for r in jobs["batches/fake2"].requests)
    rows = await _rows(runtime, batch_id)
    for number, (status, error) in enumerate(rows, 1):
        if number not in unreported:
            assert (status, error) == ("succeeded", None)
            continue
        assert status == "failed"
        assert error is not None
        assert error.startswith(
            "node 'image': Gemini could not report batch job batches/fake2 (2 request(s) to "
            "gemini-2.5-flash-image) for 0:10:00: every poll failed, the last with: "
        )
        assert "UNAVAILABLE" in error or "503" in error
        assert f"plait batch --retry-failed {batch_id}: it asks for the job again" in error
        assert "PLAIT_BATCH_POLL_TIMEOUT sets how long to wait (now 600 s)." in error
    return BatchJob(batch_id, compiled, "trigger", None, None), unreported


def _requests(fake: FakeGemini) -> int:
    """Requests submitted in batch jobs: the calls paid for."""
    return sum(len(p) for p in _inlined(fake))


async def test_rows_of_a_job_google_cannot_report_fail_and_a_retry_takes_its_late_answers(
    runtime: Runtime, gemini_fake: FakeGemini
) -> None:
    job, _ = await _unreported_job(runtime, gemini_fake)
    gemini_fake.fail_polls(0, name="batches/fake2")  # Google reports the job again

    await _drive(runtime, job, 4, (store.FAILED,))

    assert [status for status, _ in await _rows(runtime, job.batch_id)] == ["succeeded"] * 4
    assert len(gemini_fake.batch_creates()) == 2
    assert _requests(gemini_fake) == 4  # every row's request paid for once


async def test_a_retry_runs_online_only_the_rows_of_a_job_still_unreported(
    runtime: Runtime, gemini_fake: FakeGemini
) -> None:
    job, unreported = await _unreported_job(runtime, gemini_fake)

    await _drive(runtime, job, 4, (store.FAILED,))  # no poll timeout: one more poll decides

    polls = [r for r in gemini_fake.batch_polls() if r.path.endswith("/batches/fake2")]
    assert len(polls) == 12  # asked once more
    assert len(gemini_fake.batch_creates()) == 2  # no new job
    live = sorted(r.parts()[0]["text"] for r in gemini_fake.generate_requests())
    assert live == [f"p{n}" for n in unreported]  # only the rows without an answer, online
    async with runtime.db.new_session() as session:
        rows = await store.rows_of(session, job.batch_id)
    assert [r.status for r in rows] == ["succeeded"] * 4
    costs = {r.number: r.cost_usd for r in rows}
    answered = [n for n in costs if n not in unreported]
    for number in unreported:  # a live call's price: twice the batch price
        assert costs[number] == pytest.approx(2 * costs[answered[0]])


async def test_429s_of_the_online_retries_slow_the_rows(
    runtime: Runtime, gemini_fake: FakeGemini
) -> None:
    job, unreported = await _unreported_job(runtime, gemini_fake)
    limiter = AimdLimiter(100)
    gemini_fake.fail(Fault.error(429))  # the first online call is rate-limited
    gemini_fake.fail_polls(1, name="batches/fake2")  # and the one more poll fails: online

    await _drive(runtime, job, 4, (store.FAILED,), limiter=limiter)

    assert len(gemini_fake.generate_requests()) == len(unreported)  # both rows went online
    assert limiter.decreases == 1  # the 429 slowed the batch
    assert limiter.limit < 100


def test_the_digest_is_equal_for_equal_requests_and_sees_image_content() -> None:
    def request(image: bytes, prompt: str = "p") -> ImageRequest:
        parts = (TextPart(prompt), ImagePart(image, "image/png"))
        return ImageRequest("gemini-2.5-flash-image", parts, "1:1")

    assert request_digest(request(b"a")) == request_digest(request(b"a"))
    assert request_digest(request(b"a")) != request_digest(request(b"b"))
    assert request_digest(request(b"a")) != request_digest(request(b"a", "q"))
