"""Rate limits (per trigger, per sign-in account) over a moving one-minute window.

Counters live in this process by default (`MovingWindows`: each key keeps the times of
its hits still inside the window, so a hit costs O(1)); with `PLAIT_REDIS_URL` set (or
`PLAIT_RATE_LIMIT_STORAGE` naming another shared store), the `limits` library keeps them
there for many processes, exactly: each hit is checked and counted by one script in
Redis (redis-py's client). Both count the same way: a hit is allowed while fewer than `limit` hits
happened in the last 60 seconds.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from plait.errors import ServiceUnavailable

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Verdict:
    policy: str
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """IETF RateLimit / RateLimit-Policy fields, and Retry-After when refused."""
        headers = {
            "RateLimit-Policy": f'"{self.policy}";q={self.limit};w=60',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_seconds))
        return headers


class Windows(Protocol):
    async def hit(self, key: str, limit: int) -> tuple[bool, int, float]:
        """Count a hit on `key` if allowed: (allowed, remaining, seconds until a slot frees)."""
        ...


class MovingWindows:
    """Exact moving windows in this process."""

    _SWEEP_EVERY = 10_000  # hits between drops of keys with no hit in the window

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._until_sweep = self._SWEEP_EVERY

    async def hit(self, key: str, limit: int) -> tuple[bool, int, float]:
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        _expire(hits, now)
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        self._sweep(now)
        reset = hits[0] + WINDOW_SECONDS - now if hits else 0.0
        return allowed, max(0, limit - len(hits)), reset

    def _sweep(self, now: float) -> None:
        self._until_sweep -= 1
        if self._until_sweep > 0:
            return
        self._until_sweep = self._SWEEP_EVERY
        for key, hits in list(self._hits.items()):
            _expire(hits, now)
            if not hits:
                del self._hits[key]


def _expire(hits: deque[float], now: float) -> None:
    while hits and hits[0] <= now - WINDOW_SECONDS:
        hits.popleft()


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

    async def hit(self, key: str, limit: int) -> tuple[bool, int, float]:
        item = RateLimitItemPerMinute(limit)
        try:
            allowed = await self._limiter.hit(item, key)
            stats = await self._limiter.get_window_stats(item, key)
        except StorageError as exc:
            raise RateLimitsUnavailable(
                f"could not count a hit in the rate-limit store ({exc.storage_error!r}); "
                "check PLAIT_REDIS_URL (or PLAIT_RATE_LIMIT_STORAGE) and that it is up"
            ) from exc
        return allowed, stats.remaining, stats.reset_time - time.time()


class RateLimiter:
    def __init__(self, storage_uri: str = "memory://"):
        memory = storage_uri.removeprefix("async+") == "memory://"
        self._windows: Windows = MovingWindows() if memory else SharedWindows(storage_uri)

    async def hit(self, policy: str, key: str, per_minute: int) -> Verdict:
        """Count one hit on `key` under `policy` (e.g. "trigger", "login")."""
        allowed, remaining, reset = await self._windows.hit(f"{policy}/{key}", per_minute)
        return Verdict(policy, allowed, per_minute, remaining, max(0, math.ceil(reset)))
