"""Plait's overhead per Gemini image: prompt → Image → Image Resize → Respond.

Plait's side is a recorded run exactly as `plait run` makes one: `open_runtime` with
settings from the environment (PLAIT_GEMINI_BASE_URL, GEMINI_API_KEY, a temporary
PLAIT_DATA_DIR), the flow `examples/flows/product-shot.json` compiled once, then per image
`run_inputs` + `Runner.run`: the SQLite run record, node rows, the blob store, the real
`GeminiProvider` on the `google-genai` SDK and the Image Resize node.

The baseline, in the same process and event loop, is what a hand-written script would do:
the SDK's async client with the same base URL and transport (an aiohttp session that does
not read the environment per call, as the provider's) and the same request (prompt, response
modalities, aspect ratio), then the same Pillow work in a thread (`plait.media.images.decode`,
`plait.media.resize.resize`, `plait.media.images.encode` with the Resize node's settings).
Both talk to the loopback fake (`tests/fakes/gemini.py`, in a thread) answering at once,
so what remains is local work: the difference per image is what Plait adds. A third
side, the same executor run without the `Runner`, splits that into the engine's share
(executor, nodes, provider, blob store) and the run record's (SQLite). Each round every
side makes the same new image (the thumbnails are checked equal first); the order rotates
by round; after a warm-up, median and p90 are reported. "Plait adds" is the median over
rounds of Plait's time minus the direct time in the same round. Target: Plait adds under 2 ms per
image. Missing it prints MISS but exits 0 (machines are noisy); errors exit non-zero.

    uv run python benchmarks/gemini.py [--rounds 200] [--warmup 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import aiohttp
from google import genai
from google.genai import types

from plait.cli.inputs import run_inputs
from plait.engine.executor import Executor
from plait.engine.runner import RunRequest
from plait.engine.state import RunStatus
from plait.flows.loader import load_flow
from plait.flows.validate import compile_flow
from plait.media import images
from plait.media.image_ref import ImageRef
from plait.media.resize import resize
from plait.nodes.image import ImageConfig
from plait.nodes.image_resize import ImageResizeConfig
from plait.runtime import Runtime, open_runtime
from plait.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "examples" / "flows" / "product-shot.json"
API_KEY = "bench-key"
TARGET_MS = 2.0


class Plait:
    """One image through a recorded run, as `plait run` does it (runtime opened once)."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.compiled = compile_flow(load_flow(FLOW), runtime.registry)
        self.runner = runtime.runner(FLOW.parent)

    async def __call__(self, prompt: str) -> bytes:
        inputs = await run_inputs([f"prompt={prompt}"], self.compiled, None, self.runtime.blobs)
        result = await self.runner.run(RunRequest(self.compiled, inputs, "cli"))
        if result.status != RunStatus.SUCCEEDED:
            raise RuntimeError(f"the Plait run {result.status.value}: {result.error}")
        thumbnail = result.result()["thumbnail"]
        assert isinstance(thumbnail, ImageRef)
        return await self.runtime.blobs.get(thumbnail.sha256)


class ExecutorOnly(Plait):
    """The same run without the run record: the executor, nodes, provider and blob store."""

    async def __call__(self, prompt: str) -> bytes:
        inputs = await run_inputs([f"prompt={prompt}"], self.compiled, None, self.runtime.blobs)
        executor = Executor(self.compiled, self.runner.services, run_id="bench", run_inputs=inputs)
        result = await executor.run()
        if result.status != RunStatus.SUCCEEDED:
            raise RuntimeError(f"the executor run {result.status.value}: {result.error}")
        thumbnail = result.result()["thumbnail"]
        assert isinstance(thumbnail, ImageRef)
        return await self.runtime.blobs.get(thumbnail.sha256)


class Direct:
    """The same image with the SDK directly, then the same Pillow resize and encode."""

    def __init__(self, base_url: str, image: ImageConfig, thumb: ImageResizeConfig):
        # the provider's transport: with aiohttp installed, the SDK's own session would look
        # up ~/.netrc and the proxy in a thread on every call, a cost Plait does not have
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), trust_env=False
        )
        options = types.HttpOptions(
            base_url=base_url,
            timeout=120_000,  # as GeminiProvider sets it (it is also sent as a header)
            retry_options=types.HttpRetryOptions(attempts=1),
            aiohttp_client=self.session,
        )
        self.client = genai.Client(vertexai=False, api_key=API_KEY, http_options=options)
        self.model = image.model
        self.config = types.GenerateContentConfig(
            response_modalities=list(image.response_modalities),
            image_config=types.ImageConfig(aspect_ratio=image.aspect_ratio),
        )
        self.thumb = thumb

    async def __call__(self, prompt: str) -> bytes:
        response = await self.client.aio.models.generate_content(
            model=self.model,
            contents=[types.Content(role="user", parts=[types.Part(text=prompt)])],
            config=self.config,
        )
        parts = response.candidates[0].content.parts  # type: ignore[index, union-attr]
        data = next(p.inline_data.data for p in parts or [] if p.inline_data)
        assert data is not None
        return await asyncio.to_thread(self._thumbnail, data)  # off the loop, as Plait does

    def _thumbnail(self, data: bytes) -> bytes:
        t = self.thumb
        img = resize(images.decode(data), t.width, t.height, t.fit, t.pad_color)
        return images.encode(img, t.format, t.quality)

    async def aclose(self) -> None:
        await self.client.aio.aclose()
        await self.session.close()


def paired(samples: dict[str, list[float]], side: str) -> float:
    """Median over rounds of `side` minus direct in the same round, in ms."""
    pairs = zip(samples[side], samples["direct"], strict=True)
    return statistics.median(s - d for s, d in pairs) * 1e3


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10, method="inclusive")[-1]


Side = Callable[[str], Awaitable[bytes]]


async def timed(fn: Side, prompt: str) -> float:
    start = time.perf_counter()
    await fn(prompt)
    return time.perf_counter() - start


async def measure(sides: dict[str, Side], rounds: int, warmup: int) -> dict[str, list[float]]:
    """Seconds per image for each side; each round, every side makes the same new image."""
    thumbnails = {name: await fn("check") for name, fn in sides.items()}
    if len(set(thumbnails.values())) != 1:  # the fake answers a prompt with the same image
        raise RuntimeError("the thumbnails differ between the sides: the work differs")
    samples: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides.items())
    for i in range(warmup + rounds):
        prompt = f"a red sneaker on white, studio light, shot {i}"  # a new image each round
        for name, fn in order[i % len(order) :] + order[: i % len(order)]:  # rotate who is first
            seconds = await timed(fn, prompt)
            if i >= warmup:
                samples[name].append(seconds)
    return samples


def report(samples: dict[str, list[float]], rounds: int) -> None:
    med = {name: statistics.median(s) * 1e3 for name, s in samples.items()}
    high = {name: p90(s) * 1e3 for name, s in samples.items()}
    rows = [
        ("direct: SDK + Pillow", "direct"),
        ("Plait: recorded run (plait run)", "plait"),
        ("  the same without the run record", "executor"),
    ]
    print(f"prompt → Image → Image Resize → Respond: 1 image per run, {rounds} rounds")
    print(f"{'per image':<36} {'median':>9} {'p90':>9}")
    for label, name in rows:
        print(f"{label:<36} {med[name]:6.2f} ms {high[name]:6.2f} ms")
    # Each round measures every side back to back, so a round's differences share the
    # machine's state: their median is steadier than a difference of medians.
    added = paired(samples, "plait")
    engine = paired(samples, "executor")
    spread = high["plait"] - high["direct"]
    print(
        f"{'Plait adds (paired by round)':<36} {added:6.2f} ms {spread:6.2f} ms"
        f"   ratio {med['plait'] / med['direct']:.2f}x"
    )
    print(
        f"  executor, nodes, provider, blobs {engine:.2f} ms; "
        f"run record (SQLite) {added - engine:.2f} ms"
    )
    verdict = "PASS" if added < TARGET_MS else "MISS"
    print(f"Plait adds {added:.2f} ms per image (target < {TARGET_MS:g} ms): {verdict}")


async def main(rounds: int, warmup: int) -> None:
    sys.path.insert(0, str(ROOT))  # the fake lives in the tests package
    from tests.fakes.gemini import FakeGemini

    with FakeGemini(api_key=API_KEY) as fake, TemporaryDirectory() as tmp:
        settings = environment(
            PLAIT_DATA_DIR=tmp,
            PLAIT_GEMINI_BASE_URL=fake.base_url,
            GEMINI_API_KEY=API_KEY,
            PLAIT_IMAGE_BACKEND="gemini",
            PLAIT_DATABASE_URL=None,
        )
        async with open_runtime(settings) as runtime:
            plait = Plait(runtime)
            nodes = plait.compiled.nodes
            image, thumb = nodes["image"].config, nodes["thumb"].config
            assert isinstance(image, ImageConfig)
            assert isinstance(thumb, ImageResizeConfig)
            direct = Direct(fake.base_url, image, thumb)
            sides: dict[str, Side] = {
                "direct": direct,
                "plait": plait,
                "executor": ExecutorOnly(runtime),
            }
            try:
                report(await measure(sides, rounds, warmup), rounds)
            finally:
                await direct.aclose()
        requests = len(fake.generate_requests())
        expected = 3 * (rounds + warmup + 1)
        if requests != expected:
            raise RuntimeError(f"the fake saw {requests} generate requests, not {expected}")


def environment(**values: str | None) -> Settings:
    """Settings as `plait run` reads them, from these variables (None: unset)."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
        return Settings(_env_file=None)
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def arguments(argv: Any = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="measured images per side")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured images per side first")
    args = parser.parse_args(argv)
    if args.rounds < 2 or args.warmup < 0:
        parser.error("--rounds must be at least 2 and --warmup at least 0")
    return args


if __name__ == "__main__":
    args = arguments()
    asyncio.run(main(args.rounds, args.warmup))
