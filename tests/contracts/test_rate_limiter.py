"""The rate-limit windows' contract (`Windows`): a hit is allowed while fewer than `limit`
hits happened in the last minute, keys are counted apart. Run in this process, through
`limits` in memory and through `limits` on a real Redis (`redis_url`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from plait.publishing.ratelimit import MovingWindows, RateLimiter, SharedWindows, Windows

WINDOWS: dict[str, Callable[[pytest.FixtureRequest], Windows]] = {
    "in-process": lambda _: MovingWindows(),
    "limits (memory)": lambda _: SharedWindows("memory://"),
    "limits (redis)": lambda request: SharedWindows(request.getfixturevalue("redis_url")),
}


@pytest.fixture(params=sorted(WINDOWS))
def windows(request: pytest.FixtureRequest) -> Windows:
    return WINDOWS[request.param](request)


async def test_allows_the_limit_then_refuses(windows: Windows) -> None:
    verdicts = [await windows.hit("trigger/a", 3) for _ in range(4)]
    assert [allowed for allowed, _, _ in verdicts] == [True, True, True, False]
    assert [remaining for _, remaining, _ in verdicts] == [2, 1, 0, 0]
    assert 58 < verdicts[-1][2] <= 60  # the first hit leaves the window in about a minute


async def test_keys_are_counted_apart(windows: Windows) -> None:
    assert (await windows.hit("trigger/a", 1))[0]
    assert (await windows.hit("trigger/b", 1))[0]
    assert not (await windows.hit("trigger/a", 1))[0]


async def test_processes_sharing_one_redis_share_one_limit(redis_url: str) -> None:
    """Two limiters, as two server processes have, on one Redis: 61 hits at once, split
    between them, under a limit of 60 a minute → exactly 60 allowed and 1 refused."""
    processes = [RateLimiter(redis_url), RateLimiter(redis_url)]
    verdicts = await asyncio.gather(
        *(processes[n % 2].hit("trigger", "flow-1", 60) for n in range(61))
    )
    assert sum(v.allowed for v in verdicts) == 60
    refused = [v for v in verdicts if not v.allowed]
    assert len(refused) == 1
    assert refused[0].headers()["Retry-After"] in {str(s) for s in range(1, 61)}
    assert (await processes[0].hit("trigger", "flow-2", 60)).allowed  # its own count
