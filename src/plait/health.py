"""Readiness: named checks of what a process depends on (the database; Redis and the blob
store where they are used), each answered within a time limit.

A check is an async function that returns when the dependency answers and raises when it
does not. `/api/health` reports each one as `{"ok": bool, "ms": float}` (and `"error"`, a
short description that names no host or credential), so a load balancer can take a
process that cannot reach its database out of rotation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[None]]
CHECK_SECONDS = 5.0


async def run_checks(
    checks: Mapping[str, HealthCheck], seconds: float = CHECK_SECONDS
) -> dict[str, dict[str, Any]]:
    """Every check at once; the result of each by name."""
    names = sorted(checks)
    results = await asyncio.gather(*(_run(name, checks[name], seconds) for name in names))
    return dict(zip(names, results, strict=True))


async def _run(name: str, check: HealthCheck, seconds: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            await check()
    except TimeoutError:
        return _failed(name, started, f"no answer within {seconds:g} s")
    except Exception as exc:  # any failure means "not ready"; the details go to the log
        log.warning("health check %s failed: %r", name, exc)
        return _failed(name, started, f"unreachable ({type(exc).__name__}); see the server log")
    return {"ok": True, "ms": _ms(started)}


def _failed(name: str, started: float, error: str) -> dict[str, Any]:
    return {"ok": False, "ms": _ms(started), "error": f"{name}: {error}"}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
