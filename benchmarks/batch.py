"""`plait batch` at scale against the loopback fake: wall time, rate limits, memory.

A batch runs exactly as `plait batch` runs one, minus the progress bar: rows checked by
`plait.batch.rows`, stored, planned and driven by `plait.batch.driver.Driver` (recorded
runs through the `Runner`, the real `GeminiProvider` on the `google-genai` SDK, the AIMD
limiter) on SQLite in a temporary data dir. The flow is prompt → Image → Respond.

1. Latency: N rows (2,000), the fake answering each request after L seconds (1 s),
   concurrency C (100). The ideal is N × L / C; printed: wall time ÷ ideal.
2. Rate limit: the fake allows R requests per minute (600) and answers 429 with
   Retry-After above it. Printed: rows completed per minute ÷ R, the 429s the fake sent
   and how often the limiter halved.
3. Peak memory: the process's peak RSS (resource.getrusage) and its growth over the run.

The fake runs in a process of its own, as Gemini runs elsewhere: in this process its
threads (PNG encoding, JSON, one thread per connection) would take the GIL from the
event loop it is meant to be measured against.

Not a test: numbers are printed, nothing is asserted.

    uv run python benchmarks/batch.py [--rows 2000] [--latency 1] [--concurrency 100]
        [--limited-rows 1200] [--rate-limit 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import resource
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from plait.batch.driver import BatchJob, Driver, Tally, plan
from plait.batch.estimate import estimate
from plait.batch.files import check_files
from plait.batch.limiter import AimdLimiter
from plait.runtime import open_runtime

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-key"
FLOW = {
    "format": 1,
    "name": "Batch benchmark",
    "nodes": [
        {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "prompt"}]}},
        {"id": "image", "type": "image", "config": {"prompt": "{{ trigger.prompt }}"}},
        {"id": "respond", "type": "respond", "config": {"fields": [{"name": "image"}]}},
    ],
    "edges": [{"from": "image.image", "to": "respond.image"}],
}


@dataclass
class Measured:
    seconds: float
    tally: Tally
    decreases: int
    requests: int
    throttled: int


def _serve_fake(latency: float, rate_limit: int | None, pipe: Connection) -> None:
    """In the fake's own process: serve until asked, then report the generate requests."""
    sys.path.insert(0, str(ROOT))  # the fake lives in the tests package
    from tests.fakes.gemini import FakeGemini

    with FakeGemini(api_key=API_KEY, latency=latency, rate_limit=rate_limit) as fake:
        pipe.send(fake.base_url)
        pipe.recv()
        pipe.send(len(fake.generate_requests()))


class FakeProcess:
    """The fake Gemini in a child process; `requests()` counts the generate calls it got."""

    def __init__(self, latency: float, rate_limit: int | None):
        context = multiprocessing.get_context("spawn")  # no fork of a running event loop
        self._pipe, child = context.Pipe()
        self._process = context.Process(
            target=_serve_fake, args=(latency, rate_limit, child), daemon=True
        )
        self.base_url = ""

    def __enter__(self) -> FakeProcess:
        self._process.start()
        self.base_url = self._pipe.recv()
        return self

    def requests(self) -> int:
        self._pipe.send("stop")
        count: int = self._pipe.recv()
        return count

    def __exit__(self, *exc: object) -> None:
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()


async def run_batch(
    rows: int, concurrency: int, latency: float, rate_limit: int | None, tag: str
) -> Measured:
    sys.path.insert(0, str(ROOT))
    from benchmarks.gemini import environment

    with FakeProcess(latency, rate_limit) as fake, TemporaryDirectory() as tmp:
        folder = Path(tmp)
        flow_path, rows_path = folder / "flow.json", folder / "rows.jsonl"
        flow_path.write_text(json.dumps(FLOW))
        lines = [json.dumps({"prompt": f"{tag} row {n}"}) for n in range(1, rows + 1)]
        rows_path.write_text("\n".join(lines) + "\n")
        settings = environment(
            PLAIT_DATA_DIR=tmp,
            PLAIT_GEMINI_BASE_URL=fake.base_url,
            GEMINI_API_KEY=API_KEY,
            PLAIT_IMAGE_BACKEND="gemini",
            PLAIT_DATABASE_URL=None,
        )
        async with open_runtime(settings) as runtime:
            checked = await check_files(runtime, flow_path, rows_path, None)
            cost = estimate(checked.compiled, len(checked.rows), free=False)
            started = time.perf_counter()
            batch_id = await checked.create(runtime, None)
            job = BatchJob(batch_id, checked.compiled, checked.trigger_id, folder, None)
            limiter = AimdLimiter(concurrency)
            driver = Driver(
                runtime, job, limiter, per_row_usd=cost.per_row_usd, budget_usd=None,
                tally=Tally(len(checked.rows)),
            )  # fmt: skip
            outcome = await driver.run(await plan(runtime, batch_id, ("pending",)))
            seconds = time.perf_counter() - started
        requests = fake.requests()
        return Measured(
            seconds, outcome.tally, limiter.decreases, requests, requests - outcome.tally.succeeded
        )


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return None
    return int(statm.read_text().split()[1]) * resource.getpagesize() / (1024 * 1024)


def fastest_allowed(rows: int, rate: int, concurrency: int, latency: float) -> float:
    """Seconds the fake's sliding 60 s window needs at least for `rows` requests: full
    windows of `rate`, then the remainder at `concurrency` requests per `latency`."""
    windows = math.ceil(rows / rate) - 1
    rest = rows - windows * rate
    return windows * 60 + math.ceil(rest / concurrency) * latency


async def main(args: argparse.Namespace) -> None:
    before, rss_before = peak_rss_mb(), current_rss_mb()
    first = await run_batch(args.rows, args.concurrency, args.latency, None, "latency")
    peak_first, rss_after = peak_rss_mb(), current_rss_mb()
    ideal = args.rows * args.latency / args.concurrency
    print(
        f"1. {args.rows} rows, fake latency {args.latency:g} s, concurrency {args.concurrency}: "
        f"{first.seconds:.1f} s; ideal N×L/C = {ideal:.1f} s; ratio {first.seconds / ideal:.2f}"
        f" ({first.tally.succeeded} succeeded, {first.tally.failed} failed, "
        f"{first.seconds / args.rows * 1000:.1f} ms per row)"
    )
    n, rate = args.limited_rows, args.rate_limit
    second = await run_batch(n, args.concurrency, args.latency, rate, "limited")
    achieved = second.tally.succeeded / second.seconds * 60
    fastest = fastest_allowed(n, rate, args.concurrency, args.latency)
    print(
        f"2. {n} rows, fake limited to {rate}/min (sliding 60 s window), concurrency "
        f"{args.concurrency}: {second.seconds:.1f} s = {achieved:.0f} rows/min "
        f"({achieved / rate:.2f}× the nominal rate: the window admits a burst); the window "
        f"allows {n} requests in {fastest:.1f} s at best = {n / fastest * 60:.0f}/min; "
        f"achieved ÷ allowed = {fastest / second.seconds:.2f} ({second.tally.succeeded} "
        f"succeeded, {second.tally.failed} failed, {second.throttled} answered 429, "
        f"limiter halved {second.decreases}×)"
    )
    growth = f"{peak_first - before:.0f} MB"
    held = (
        f"; RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after"
        if rss_before is not None and rss_after is not None
        else ""
    )
    print(
        f"3. peak RSS {peak_rss_mb():.0f} MB (the fake not included); the {args.rows}-row batch "
        f"raised the peak by {growth} (≈ {args.concurrency} responses in flight){held}"
    )


def arguments(argv: Any = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per fake request")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--limited-rows", type=int, default=1200)
    parser.add_argument("--rate-limit", type=int, default=600, help="fake requests per minute")
    args = parser.parse_args(argv)
    if min(args.rows, args.concurrency, args.limited_rows, args.rate_limit) < 1:
        parser.error("counts must be at least 1")
    if args.latency <= 0:
        parser.error("--latency must be positive")
    return args


if __name__ == "__main__":
    asyncio.run(main(arguments()))
