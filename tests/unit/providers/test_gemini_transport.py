"""How the Gemini provider talks HTTP: its own aiohttp session per event loop, no thread
round trip per call, and the proxy the environment names."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from plait.providers.base import ImageRequest, TextPart
from plait.providers.gemini import GeminiProvider
from tests.fakes.gemini import FakeGemini

KEY = "test-key-7f3a"


def _request(prompt: str = "a lighthouse") -> ImageRequest:
    return ImageRequest("gemini-2.5-flash-image", (TextPart(prompt),))


class _CountingExecutor(ThreadPoolExecutor):
    """The loop's default executor, counting what is handed to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


async def test_a_call_makes_no_thread_round_trip(
    gemini_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an aiohttp session that trusts the environment looks up ~/.netrc and the proxy in a
    # thread on every request: two waits per call on an event loop busy with a batch
    monkeypatch.setenv("HOME", "/nonexistent")
    gemini = GeminiProvider(KEY, gemini_fake.base_url)
    await gemini.generate(_request("warm-up"))  # the session and its connection
    executor = _CountingExecutor()
    asyncio.get_running_loop().set_default_executor(executor)

    for n in range(3):
        await gemini.generate(_request(f"call {n}"))
    await gemini.aclose()

    assert executor.submitted == 0
    assert len(gemini_fake.generate_requests()) == 4


async def test_the_proxy_the_environment_names_carries_the_calls(
    gemini_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the fake answers a proxy's absolute-form request line as well: it stands in for the
    # proxy here, so a call reaches it only through the proxy
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", gemini_fake.base_url)
    gemini = GeminiProvider(KEY, "http://gemini.invalid")

    result = await gemini.generate(_request())
    await gemini.aclose()

    assert len(result.images) == 1
    assert gemini_fake.generate_requests()[0].path.endswith(":generateContent")


async def test_no_proxy_is_honoured(
    gemini_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the discard port: nothing there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    gemini = GeminiProvider(KEY, gemini_fake.base_url)

    result = await gemini.generate(_request())
    await gemini.aclose()

    assert len(result.images) == 1


def test_one_provider_serves_calls_from_two_event_loops(gemini_fake: FakeGemini) -> None:
    # an aiohttp session belongs to the loop it was made on: each loop gets its own
    gemini = GeminiProvider(KEY, gemini_fake.base_url)

    async def call(prompt: str) -> int:
        return len((await gemini.generate(_request(prompt))).images)

    first = asyncio.run(call("first loop"))
    second = asyncio.run(call("second loop"))
    asyncio.run(gemini.aclose())

    assert (first, second) == (1, 1)
    assert len(gemini_fake.generate_requests()) == 2
