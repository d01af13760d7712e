"""The in-process moving windows (their contract with the shared ones: tests/contracts)."""

from __future__ import annotations

import pytest

from plait.shared_windows import SharedWindows
from plait.windows import LocalWhenAway, MovingWindows, RateLimitsUnavailable
from tests.services import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_window_moves() -> None:
    clock = Clock()
    windows = MovingWindows(clock)
    await windows.hit("k", 2)  # at 0 s
    clock.now += 30
    await windows.hit("k", 2)  # at 30 s
    clock.now += 29.9
    allowed, remaining, reset = await windows.hit("k", 2)  # 59.9 s: both inside
    assert (allowed, remaining) == (False, 0)
    assert reset == pytest.approx(0.1)
    clock.now += 0.1
    allowed, remaining, reset = await windows.hit("k", 2)  # 60 s: the first has left
    assert allowed
    assert remaining == 0
    assert reset == pytest.approx(30)  # when the 30 s hit leaves


async def test_refused_hits_are_not_counted() -> None:
    clock = Clock()
    windows = MovingWindows(clock)
    await windows.hit("k", 1)
    for _ in range(5):
        clock.now += 10
        assert not (await windows.hit("k", 1))[0]
    clock.now += 10.001  # 60.001 s after the only counted hit
    assert (await windows.hit("k", 1))[0]


async def test_a_lowered_limit_reports_no_remaining_hits() -> None:
    windows = MovingWindows()
    for _ in range(5):
        await windows.hit("k", 10)
    allowed, remaining, reset = await windows.hit("k", 2)
    assert (allowed, remaining) == (False, 0)
    assert reset == pytest.approx(60, abs=1)


async def test_idle_keys_are_dropped() -> None:
    clock = Clock()
    windows = MovingWindows(clock)
    await windows.hit("old", 5)
    clock.now += 61
    for i in range(MovingWindows._SWEEP_EVERY):
        await windows.hit(f"new/{i % 3}", 10**6)
    assert sorted(windows._hits) == ["new/0", "new/1", "new/2"]


async def test_each_key_keeps_its_own_window_and_can_be_cleared() -> None:
    clock = Clock()
    windows = MovingWindows(clock)
    assert (await windows.hit("long", 1, 900))[0]
    assert (await windows.hit("short", 1, 10))[0]
    clock.now += 11
    assert await windows.peek("short", 1, 10) == (1, 0.0)
    remaining, frees_in = await windows.peek("long", 1, 900)
    assert remaining == 0
    assert frees_in == pytest.approx(889)
    await windows.clear("long", 1, 900)
    assert await windows.peek("long", 1, 900) == (1, 0.0)


async def test_local_when_away_counts_here_while_the_shared_store_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = SharedWindows(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(RateLimitsUnavailable):
        await nowhere.hit("k", 1)
    windows = LocalWhenAway(nowhere)
    assert (await windows.hit("signin/a", 2, 900))[0]
    assert (await windows.hit("signin/a", 2, 900))[0]
    assert not (await windows.hit("signin/a", 2, 900))[0]  # counted here meanwhile
    assert (await windows.peek("signin/a", 2, 900))[0] == 0
    await windows.clear("signin/a", 2, 900)
    assert await windows.peek("signin/a", 2, 900) == (2, 0.0)
    said = [r.getMessage() for r in caplog.records if "counting in this process" in r.getMessage()]
    assert len(said) == 1  # said once while the store stays away


async def test_local_when_away_uses_the_shared_store_while_it_answers() -> None:
    shared = MovingWindows()
    windows = LocalWhenAway(shared)
    await windows.hit("k", 1)
    assert not (await shared.hit("k", 1))[0]  # the hit went to the shared windows
