"""Background duties repeated every few seconds for as long as a process runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

log = logging.getLogger(__name__)

Duty = Callable[[], Awaitable[object]]


async def once(duty: Duty, name: str) -> None:
    """Do `duty`; a failure is logged, not fatal (it is tried again later)."""
    try:
        await duty()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s failed; trying again later", name)


async def repeat(duty: Duty, every: float, name: str) -> None:
    """Do `duty` every `every` seconds, from `every` seconds on."""
    while True:
        await asyncio.sleep(every)
        await once(duty, name)


@contextlib.asynccontextmanager
async def running(duties: Sequence[tuple[str, Duty, float]]) -> AsyncIterator[None]:
    """Each (name, duty, every) repeated in a task of its own while the body runs."""
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(repeat(duty, every, name)) for name, duty, every in duties]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
