"""Moving windows in a store many processes share (`plait.windows.Windows` through the
`limits` library: Redis with redis-py, exact across processes). `plait.windows.make_windows`
makes them for a storage URI other than `memory://`; `limits` loads only then."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from plait.windows import MINUTE, RateLimitsUnavailable

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


__all__ = ["SharedWindows"]
