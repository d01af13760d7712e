"""Where a published flow's run stands: from its in-memory result or its record, waiting a
bounded time for it to settle."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from plait.engine.live import LiveRuns
from plait.engine.state import RunResult, RunStatus
from plait.engine.values import from_json
from plait.publishing.launch import Started
from plait.store import runs as run_store
from plait.store.db import Database
from plait.store.tables import Run


@dataclass(frozen=True)
class Outcome:
    """Where a run stands, from its in-memory result or its record."""

    run_id: str
    status: str
    value: Any = None
    error: str | None = None
    failed_node: str | None = None
    error_category: str | None = None
    retry_after: float | None = None  # known while the run is in memory
    duration_ms: float | None = None
    cost_usd: float = 0.0

    @property
    def settled(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")

    @classmethod
    def of_result(cls, result: RunResult) -> Outcome:
        succeeded = result.status == RunStatus.SUCCEEDED
        value = result.result() if succeeded else None
        failure = result.failure
        return cls(
            result.run_id,
            result.status.value,
            value,
            result.error,
            result.failed_node,
            failure.error_category if failure else None,
            failure.retry_after if failure else None,
            result.duration_ms,
            result.usage.cost_usd,
        )

    @classmethod
    def of_run(cls, run: Run) -> Outcome:
        return cls(
            run.id, run.status, from_json(run.result), run.error, run.failed_node,
            run.error_category, None, run.duration_ms, run.cost_usd,
        )  # fmt: skip

    @property
    def detail(self) -> str | None:
        """A failed run's message, naming the node that failed."""
        node = self.failed_node
        return f"node '{node}': {self.error}" if node else self.error


async def wait_outcome(
    live: LiveRuns, db: Database, started: Started, within: float, *, shared: bool
) -> Outcome:
    """The run's outcome, waiting up to `within` seconds for it to settle. `shared`: runs
    settle in other processes too (signals cross processes)."""
    run_id = started.run_id
    if started.ran:
        if started.result is not None:
            return Outcome.of_result(started.result)
        return Outcome.of_run(await _existing_run(db, run_id))
    waiter = started.waiter or live.waiter(run_id)
    try:
        # a repeated Idempotency-Key may be long done; a run another process executes
        # may have settled before the waiter was taken (its signal came and went), unless
        # the waiter was taken before the run could start
        if within > 0 and (not started.is_new or (shared and started.waiter is None)):
            recorded = Outcome.of_run(await _existing_run(db, run_id))
            if recorded.settled:
                return recorded
        if within > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    result = await waiter
                if result is not None:
                    return Outcome.of_result(result)
        return Outcome.of_run(await _existing_run(db, run_id))
    finally:
        live.forget(run_id, waiter)


async def run_record(db: Database, run_id: str) -> Run | None:
    async with db.new_session() as session:
        return await run_store.get_run(session, run_id)


async def _existing_run(db: Database, run_id: str) -> Run:
    run = await run_record(db, run_id)
    assert run is not None  # submitted before it is looked for
    return run
