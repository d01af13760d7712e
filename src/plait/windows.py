"""Moving windows: how many hits a key had in the last `window` seconds, counted in this
process (`MovingWindows`) or in a store many processes share (`plait.shared_windows`,
through the `limits` library: Redis with redis-py, exact across processes). The trigger rate limits
(`plait.publishing.ratelimit`) and the sign-in throttle (`plait.access.signin`) count
with them. A hit is counted only when allowed (fewer than `limit` hits in the window)."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from plait.errors import ServiceUnavailable

MINUTE = 60.0

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class Windows(Protocol):
    async def hit(self, key: str, limit: int, window: float = MINUTE) -> tuple[bool, int, float]:
        """Count a hit on `key` if allowed: (allowed, remaining, seconds until a slot frees)."""
        ...

    async def peek(self, key: str, limit: int, window: float = MINUTE) -> tuple[int, float]:
        """(remaining, seconds until a slot frees) without counting a hit."""
        ...

    async def clear(self, key: str, limit: int, window: float = MINUTE) -> None:
        """Forget the hits on `key`."""
        ...


class MovingWindows:
    """Exact moving windows in this process (a hit costs O(1)); `clock` is a seam for tests."""

    _SWEEP_EVERY = 10_000  # hits between drops of keys with no hit in the window

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._hits: dict[str, tuple[float, deque[float]]] = {}  # key: (window, times)
        self._until_sweep = self._SWEEP_EVERY

    async def hit(self, key: str, limit: int, window: float = MINUTE) -> tuple[bool, int, float]:
        now = self._clock()
        hits = self._current(key, window, now)
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        self._sweep(now)
        return allowed, *_left(hits, limit, window, now)

    async def peek(self, key: str, limit: int, window: float = MINUTE) -> tuple[int, float]:
        now = self._clock()
        return _left(self._current(key, window, now), limit, window, now)

    async def clear(self, key: str, limit: int, window: float = MINUTE) -> None:
        self._hits.pop(key, None)

    def _current(self, key: str, window: float, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, (window, deque()))[1]
        _expire(hits, window, now)
        return hits

    def _sweep(self, now: float) -> None:
        self._until_sweep -= 1
        if self._until_sweep > 0:
            return
        self._until_sweep = self._SWEEP_EVERY
        for key, (window, hits) in list(self._hits.items()):
            _expire(hits, window, now)
            if not hits:
                del self._hits[key]


def _expire(hits: deque[float], window: float, now: float) -> None:
    while hits and hits[0] <= now - window:
        hits.popleft()


def _left(hits: deque[float], limit: int, window: float, now: float) -> tuple[int, float]:
    return max(0, limit - len(hits)), hits[0] + window - now if hits else 0.0


class RateLimitsUnavailable(ServiceUnavailable):
    service = "the rate-limit store"


class LocalWhenAway:
    """`shared` while it answers; while it cannot be reached, windows in this process
    (`local`), so what may go on without exact counts (signing in) goes on, counted per
    process. Said once in the log each time the store goes away."""

    def __init__(self, shared: Windows, local: Windows | None = None):
        self._shared = shared
        self._local = local or MovingWindows()
        self._away = False

    async def hit(self, key: str, limit: int, window: float = MINUTE) -> tuple[bool, int, float]:
        return await self._either(
            self._shared.hit(key, limit, window), lambda: self._local.hit(key, limit, window)
        )

    async def peek(self, key: str, limit: int, window: float = MINUTE) -> tuple[int, float]:
        return await self._either(
            self._shared.peek(key, limit, window), lambda: self._local.peek(key, limit, window)
        )

    async def clear(self, key: str, limit: int, window: float = MINUTE) -> None:
        await self._local.clear(key, limit, window)
        await self._either(self._shared.clear(key, limit, window), _nothing)

    async def _either(self, shared: Awaitable[_T], local: Callable[[], Awaitable[_T]]) -> _T:
        """The shared store's answer; this process's while it cannot be reached."""
        try:
            answer = await shared
        except RateLimitsUnavailable as exc:
            if not self._away:
                log.warning("%s; counting in this process until it is back", exc)
            self._away = True
            return await local()
        self._away = False
        return answer


async def _nothing() -> None:
    return None


def make_windows(storage_uri: str = "memory://") -> Windows:
    """In this process for `memory://`, else in the store the URI names."""
    if storage_uri.removeprefix("async+") == "memory://":
        return MovingWindows()
    from plait.shared_windows import SharedWindows  # `limits` loads only when it is used

    return SharedWindows(storage_uri)


__all__ = [
    "MINUTE",
    "LocalWhenAway",
    "MovingWindows",
    "RateLimitsUnavailable",
    "Windows",
    "make_windows",
]
