"""The moving windows' contract (`plait.windows.Windows`, what rate limits and the sign-in
throttle count in): a hit is allowed while fewer than `limit` hits happened in the window,
keys are counted apart, a peek counts nothing, a clear forgets. Run in this process, through
`limits` in memory and through `limits` on a real Redis (`redis_url`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from plait.access.signin import SignIns, ThrottlePolicy
from plait.publishing.ratelimit import RateLimiter
from plait.shared_windows import SharedWindows
from plait.windows import MovingWindows, Windows

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


async def test_a_peek_counts_nothing_and_a_clear_forgets(windows: Windows) -> None:
    assert await windows.peek("signin/a", 2, 900) == (2, 0.0)
    await windows.hit("signin/a", 2, 900)
    await windows.hit("signin/a", 2, 900)
    remaining, frees_in = await windows.peek("signin/a", 2, 900)
    assert remaining == 0
    assert 895 < frees_in <= 900  # a window of fifteen minutes, not one
    assert (await windows.peek("signin/a", 2, 900))[0] == 0  # peeking did not count
    await windows.clear("signin/a", 2, 900)
    assert await windows.peek("signin/a", 2, 900) == (2, 0.0)
    assert (await windows.hit("signin/a", 2, 900))[0]


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


async def test_sign_in_failures_count_across_processes_sharing_one_redis(redis_url: str) -> None:
    """Guesses spread over two server processes meet one throttle."""
    policy = ThrottlePolicy(per_account_and_address=4)
    processes = [SignIns(policy, SharedWindows(redis_url)) for _ in range(2)]
    for n in range(4):
        assert await processes[n % 2].wait("a@x.test", "10.0.0.1") == 0
        await processes[n % 2].failed("a@x.test", "10.0.0.1")
    assert await processes[0].wait("a@x.test", "10.0.0.1") > 890
    assert await processes[1].wait("a@x.test", "10.0.0.1") > 890
    await processes[1].succeeded("a@x.test", "10.0.0.1")
    assert await processes[0].wait("a@x.test", "10.0.0.1") == 0
