"""The rate-limit windows' contract (`Windows`): a hit is allowed while fewer than `limit`
hits happened in the last minute, keys are counted apart."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from plait.publishing.ratelimit import MovingWindows, SharedWindows, Windows

WINDOWS: dict[str, Callable[[], Windows]] = {
    "in-process": MovingWindows,
    "limits (memory)": lambda: SharedWindows("memory://"),
}


@pytest.fixture(params=sorted(WINDOWS))
def windows(request: pytest.FixtureRequest) -> Windows:
    return WINDOWS[request.param]()


async def test_allows_the_limit_then_refuses(windows: Windows) -> None:
    verdicts = [await windows.hit("trigger/a", 3) for _ in range(4)]
    assert [allowed for allowed, _, _ in verdicts] == [True, True, True, False]
    assert [remaining for _, remaining, _ in verdicts] == [2, 1, 0, 0]
    assert 58 < verdicts[-1][2] <= 60  # the first hit leaves the window in about a minute


async def test_keys_are_counted_apart(windows: Windows) -> None:
    assert (await windows.hit("trigger/a", 1))[0]
    assert (await windows.hit("trigger/b", 1))[0]
    assert not (await windows.hit("trigger/a", 1))[0]
