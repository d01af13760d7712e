"""Runs executing in this process: their event buses (for live streams), their executors
(for cancelling) and completion futures (for callers that wait on a result)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from plait.engine.events import EventBus
from plait.engine.executor import Executor


@dataclass
class LiveRun:
    executor: Executor
    bus: EventBus


class LiveRuns:
    def __init__(self) -> None:
        self._running: dict[str, LiveRun] = {}
        self._waiters: dict[str, list[asyncio.Future[str]]] = {}

    def get(self, run_id: str) -> LiveRun | None:
        return self._running.get(run_id)

    def started(self, run_id: str, executor: Executor, bus: EventBus) -> None:
        self._running[run_id] = LiveRun(executor, bus)

    def settled(self, run_id: str, status: str) -> None:
        """The run ended (or will not start): wake everyone waiting on it."""
        self._running.pop(run_id, None)
        for waiter in self._waiters.pop(run_id, []):
            if not waiter.done():
                waiter.set_result(status)

    def cancel(self, run_id: str) -> bool:
        live = self._running.get(run_id)
        if live is None:
            return False
        live.executor.cancel()
        return True

    def waiter(self, run_id: str) -> asyncio.Future[str]:
        """A future set to the run's status when it settles. Take one before checking the
        database, so a run settling in between is not missed; `forget` it when done."""
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(run_id, []).append(waiter)
        return waiter

    def forget(self, run_id: str, waiter: asyncio.Future[str]) -> None:
        waiters = self._waiters.get(run_id)
        if waiters and waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                del self._waiters[run_id]
