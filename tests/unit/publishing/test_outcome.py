"""Waiting for a published flow's run: a run queued for another process is watched from
before it can start, so its settling is never missed and its record is read once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plait.engine.context import Services as RunServices
from plait.engine.live import LiveRuns
from plait.engine.relay import RunRelay
from plait.engine.runner import Runner
from plait.engine.worker import Worker
from plait.flows.validate import compile_flow
from plait.media.blobs import LocalBlobStore
from plait.nodes.registry import builtin
from plait.providers.preview import PreviewProvider
from plait.publishing.budgets import TriggerBudgets
from plait.publishing.calls import launch
from plait.publishing.launch import InProcessLauncher
from plait.publishing.outcome import wait_outcome
from plait.signals import InMemorySignals
from plait.store import run_writes
from plait.store.db import Database
from plait.store.flows import PublishedFlow
from tests.helpers import flow, node

ECHO = flow(
    [
        node("trigger", "http_trigger", fields=[{"name": "prompt"}]),
        node("respond", "respond", fields=[{"name": "prompt"}]),
    ],
    [("trigger.prompt", "respond.prompt")],
)


class SettledElsewhere:
    """A shared queue whose worker (another process) finishes each run before `enqueue`
    returns: its record is settled and its settled signal heard here at once."""

    delivers_here = False

    def __init__(self, db: Database, live: LiveRuns):
        self.db, self.live = db, live

    async def start(self, handler: object) -> None:
        pass

    async def enqueue(self, run_id: str) -> None:
        fields = {"status": "succeeded", "result": {"said": "done elsewhere"}, "cost_usd": 0.0}
        await self.db.journal.write(run_writes.finish_run(run_id, fields, []))
        self.live.settled_elsewhere(run_id)

    async def requeue(self, run_id: str) -> bool:
        await self.enqueue(run_id)
        return True

    async def close(self) -> None:
        pass


@dataclass
class CallServices:
    """What a trigger call uses of the server (`plait.publishing.calls.Services`)."""

    runtime: Any
    limiter: Any
    budgets: TriggerBudgets
    launcher: InProcessLauncher
    live: LiveRuns
    relay: RunRelay


@dataclass
class _Backend:
    backend: str = "preview"


async def test_a_run_that_settles_elsewhere_before_its_caller_waits_is_answered_at_once(
    db: Database, tmp_path: Path
) -> None:
    live = LiveRuns()
    provider = PreviewProvider()
    services = RunServices(LocalBlobStore(tmp_path / "blobs"), lambda: provider, tmp_path)
    runner = Runner(db, services, "preview")
    worker = Worker(db, builtin(), lambda: runner, live)
    queue = SettledElsewhere(db, live)
    relay = RunRelay(InMemorySignals(), live, db.journal.flush)
    launcher = InProcessLauncher(db, lambda: runner, worker, queue, relay, execute_here=False)
    call = CallServices(_Backend(), None, TriggerBudgets(db), launcher, live, relay)
    compiled = compile_flow(ECHO, builtin())
    published = PublishedFlow("flow-1", 1, compiled.digest, {}, 60, None, None)

    async def inputs() -> dict[str, Any]:
        return {"prompt": "hi"}

    started = await launch(call, published, compiled, "trigger", None, inputs, awaited=True)
    assert started.waiter is not None
    assert started.waiter.done()  # taken before the queue heard of the run
    async with asyncio.timeout(30):  # a missed signal would wait the whole hour
        outcome = await wait_outcome(live, db, started, 3600, shared=True)
    assert (outcome.status, outcome.value) == ("succeeded", {"said": "done elsewhere"})
    assert not live.waited_for(started.run_id)  # its waiter was let go
