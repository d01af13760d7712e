"""Moving windows: how many hits a key had in the last `window` seconds, counted in this
process (`MovingWindows`) or in a store many processes share (`SharedWindows`, through the
`limits` library: Redis with redis-py, exact across processes). The trigger rate limits
(`plait.publishing.ratelimit`) and the sign-in throttle (`plait.access.signin`) count
with them. A hit is counted only when allowed (fewer than `limit` hits in the window)."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

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


# redis-py's client (not coredis), bounded waits
_REDIS_OPTIONS: dict[str, float | str | bool] = {
    "implementation": "redispy",
    "socket_connect_timeout": 5,
    "socket_timeout": 5,
}


class SharedWindows:
    """Moving windows in a store many processes share, through the `limits` library."""

    def __init__(self, storage_uri: str):
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        redis = urlsplit(uri).scheme.removeprefix("async+").startswith("redis")
        options = _REDIS_OPTIONS if redis else {}
        storage = storage_from_string(uri, wrap_exceptions=True, **options)
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, key: str, limit: int, window: float = MINUTE) -> tuple[bool, int, float]:
        item = _item(limit, window)
        try:
            allowed = await self._limiter.hit(item, key)
        except StorageError as exc:
            raise _unavailable(exc) from exc
        return allowed, *await self._stats(item, key)

    async def peek(self, key: str, limit: int, window: float = MINUTE) -> tuple[int, float]:
        return await self._stats(_item(limit, window), key)

    async def clear(self, key: str, limit: int, window: float = MINUTE) -> None:
        try:
            await self._limiter.clear(_item(limit, window), key)
        except StorageError as exc:
            raise _unavailable(exc) from exc

    async def _stats(self, item: RateLimitItem, key: str) -> tuple[int, float]:
        try:
            stats = await self._limiter.get_window_stats(item, key)
        except StorageError as exc:
            raise _unavailable(exc) from exc
        if stats.remaining >= item.amount:  # no hit in the window (`limits` says a full one)
            return stats.remaining, 0.0
        return stats.remaining, max(0.0, stats.reset_time - time.time())


def _item(limit: int, window: float) -> RateLimitItem:
    return RateLimitItemPerSecond(limit, max(1, round(window)))


def _unavailable(exc: StorageError) -> RateLimitsUnavailable:
    return RateLimitsUnavailable(
        f"could not count a hit in the rate-limit store ({exc.storage_error!r}); "
        "check PLAIT_REDIS_URL (or PLAIT_RATE_LIMIT_STORAGE) and that it is up"
    )


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
    memory = storage_uri.removeprefix("async+") == "memory://"
    return MovingWindows() if memory else SharedWindows(storage_uri)


__all__ = [
    "MINUTE",
    "LocalWhenAway",
    "MovingWindows",
    "RateLimitsUnavailable",
    "SharedWindows",
    "Windows",
    "make_windows",
]
