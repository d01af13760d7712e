"""Runs executing in this process: their event buses (for live streams), their executors
(for cancelling) and completion futures (for callers that wait on a result)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from plait.engine.events import EventBus
from plait.engine.executor import Executor
from plait.engine.state import RunResult


@dataclass
class LiveRun:
    executor: Executor
    bus: EventBus


class LiveRuns:
    def __init__(self) -> None:
        self._running: dict[str, LiveRun] = {}
        self._waiters: dict[str, list[asyncio.Future[RunResult | None]]] = {}
        self._cancelled: set[str] = set()  # cancelled while queued, before a worker took them

    def get(self, run_id: str) -> LiveRun | None:
        return self._running.get(run_id)

    def started(self, run_id: str, executor: Executor, bus: EventBus) -> None:
        self._running[run_id] = LiveRun(executor, bus)

    def settled(self, run_id: str, result: RunResult | None) -> None:
        """The run ended and is recorded (None: it will not run here): wake its waiters."""
        self._running.pop(run_id, None)
        for waiter in self._waiters.pop(run_id, []):
            if not waiter.done():
                waiter.set_result(result)

    def settled_elsewhere(self, run_id: str) -> None:
        """Another process says the run settled: wake its waiters here (to read its record)."""
        for waiter in self._waiters.pop(run_id, []):
            if not waiter.done():
                waiter.set_result(None)

    def cancel(self, run_id: str) -> bool:
        """Cancel the run if it is running here."""
        live = self._running.get(run_id)
        if live is None:
            return False
        live.executor.cancel()
        return True

    def forbid_start(self, run_id: str) -> None:
        """A queued run was cancelled: the worker must not start it."""
        self._cancelled.add(run_id)

    def cancelled_before_start(self, run_id: str) -> bool:
        if run_id in self._cancelled:
            self._cancelled.discard(run_id)
            return True
        return False

    def waiter(self, run_id: str) -> asyncio.Future[RunResult | None]:
        """A future set to the run's result when it settles. Take one before checking the
        database, so a run settling in between is not missed; `forget` it when done."""
        waiter: asyncio.Future[RunResult | None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(run_id, []).append(waiter)
        return waiter

    def waited_for(self, run_id: str) -> bool:
        """Whether a caller here waits for the run to settle."""
        return bool(self._waiters.get(run_id))

    def forget(self, run_id: str, waiter: asyncio.Future[RunResult | None]) -> None:
        waiters = self._waiters.get(run_id)
        if waiters and waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                del self._waiters[run_id]
