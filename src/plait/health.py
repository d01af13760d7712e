"""Readiness: named checks of what a process depends on (Redis, the blob store, the
database), run together for `GET /api/health`, each bounded in time.

A check is an async callable that returns when its service answers and raises when not.
The answer names each check `{"ok": true}` or `{"ok": false, "error": …}`; the error says
which service failed and how (the exception's type), never addresses or credentials: the
route is public. The details go to the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypedDict

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]


class CheckResult(TypedDict, total=False):
    ok: bool
    error: str


class Checks:
    def __init__(self, timeout: float = 3.0) -> None:
        self._checks: dict[str, Check] = {}
        self._timeout = timeout

    def add(self, name: str, check: Check) -> None:
        """Add (or replace) the check called `name`."""
        self._checks[name] = check

    @property
    def names(self) -> list[str]:
        return list(self._checks)

    async def run(self) -> dict[str, CheckResult]:
        names = list(self._checks)
        results = await asyncio.gather(*(self._one(name) for name in names))
        return dict(zip(names, results, strict=True))

    async def _one(self, name: str) -> CheckResult:
        try:
            async with asyncio.timeout(self._timeout):
                await self._checks[name]()
        except TimeoutError:
            log.warning("health: %s did not answer within %s s", name, self._timeout)
            return {"ok": False, "error": f"{name}: no answer within {self._timeout:g} s"}
        except Exception as exc:
            log.warning("health: %s failed: %s", name, exc)
            return {"ok": False, "error": f"{name}: {type(exc).__name__} (see the server's log)"}
        return {"ok": True}
