"""Rate limits (per trigger, per sign-in account) over a moving one-minute window, counted
in `plait.windows`: in this process by default; with `PLAIT_REDIS_URL` set (or
`PLAIT_RATE_LIMIT_STORAGE` naming another shared store) in Redis, for many processes,
exactly. A hit is allowed while fewer than `limit` hits happened in the last 60 seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from plait.windows import make_windows


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
        self.windows = make_windows(storage_uri)

    async def hit(self, policy: str, key: str, per_minute: int) -> Verdict:
        """Count one hit on `key` under `policy` (e.g. "trigger", "login")."""
        allowed, remaining, reset = await self.windows.hit(f"{policy}/{key}", per_minute)
        return Verdict(policy, allowed, per_minute, remaining, max(0, math.ceil(reset)))
