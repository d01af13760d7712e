"""The rate limiter's verdicts (the windows it counts in: tests/unit/test_windows.py and the
contract suite in tests/contracts)."""

from __future__ import annotations

from plait.publishing.ratelimit import RateLimiter


async def test_verdict_headers() -> None:
    limiter = RateLimiter()
    first = await limiter.hit("trigger", "flow:node", 1)
    second = await limiter.hit("trigger", "flow:node", 1)
    assert first.allowed
    assert not second.allowed
    assert second.headers()["Retry-After"] == "60"
    assert second.headers()["RateLimit"] == '"trigger";r=0;t=60'
    assert second.headers()["RateLimit-Policy"] == '"trigger";q=1;w=60'
