"""Rate limits (per trigger, per sign-in account) on the `limits` library: counters in
memory on one machine, in Redis when scaled out (`PLAIT_RATE_LIMIT_STORAGE`)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


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


class RateLimiter:
    def __init__(self, storage_uri: str = "memory://"):
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))

    async def hit(self, policy: str, key: str, per_minute: int) -> Verdict:
        """Count one hit on `key` under `policy` (e.g. "trigger", "login")."""
        item = RateLimitItemPerMinute(per_minute)
        allowed = await self._limiter.hit(item, policy, key)
        stats = await self._limiter.get_window_stats(item, policy, key)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Verdict(policy, allowed, per_minute, stats.remaining, reset)
