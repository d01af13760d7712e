"""`LiveRuns`: the runs executing in this process, their cancels and their waiters."""

from __future__ import annotations

import asyncio

from plait.engine.context import Services
from plait.engine.events import EventBus
from plait.engine.executor import Executor
from plait.engine.live import LiveRuns
from plait.engine.state import RunResult, RunStatus
from plait.flows.validate import compile_flow
from tests.helpers import flow, node
from tests.unit.engine.nodes_for_tests import Hang, registry


def hanging(services: Services) -> Executor:
    return Executor(compile_flow(flow([node("h", "hang")]), registry()), services, run_id="r1")


async def test_waiters_wake_with_the_result_when_the_run_settles(services: Services) -> None:
    live = LiveRuns()
    executor = hanging(services)
    bus = EventBus()
    first, second = live.waiter("r1"), live.waiter("r1")
    live.started("r1", executor, bus)
    assert live.get("r1") is not None
    assert live.get("r1").bus is bus  # type: ignore[union-attr]
    result = RunResult("r1", RunStatus.SUCCEEDED, {}, [])
    live.settled("r1", result)
    assert (await first, await second) == (result, result)
    assert live.get("r1") is None


async def test_a_run_that_will_not_run_here_wakes_its_waiters_with_none() -> None:
    live = LiveRuns()
    waiter = live.waiter("r1")
    live.settled("r1", None)
    assert await waiter is None


async def test_a_forgotten_waiter_is_not_woken() -> None:
    live = LiveRuns()
    kept, forgotten = live.waiter("r1"), live.waiter("r1")
    live.forget("r1", forgotten)
    live.forget("r1", forgotten)  # twice is harmless
    live.settled("r1", None)
    assert kept.done()
    assert not forgotten.done()
    live.forget("r1", kept)  # after settling: nothing left to forget


async def test_cancel_reaches_a_running_run_only(services: Services) -> None:
    live = LiveRuns()
    assert not live.cancel("r1")  # not running here
    executor = hanging(services)
    Hang.started = asyncio.Event()
    task = asyncio.ensure_future(executor.run())
    await Hang.started.wait()
    live.started("r1", executor, EventBus())
    assert live.cancel("r1")
    result = await asyncio.wait_for(task, 30)
    assert result.status == RunStatus.CANCELLED


def test_a_run_cancelled_before_it_starts_is_refused_once() -> None:
    live = LiveRuns()
    assert not live.cancelled_before_start("r1")
    live.forbid_start("r1")
    assert live.cancelled_before_start("r1")
    assert not live.cancelled_before_start("r1")  # the refusal is used up


async def test_a_run_settled_elsewhere_wakes_only_its_own_waiters_with_none() -> None:
    live = LiveRuns()
    mine, other = live.waiter("r1"), live.waiter("r2")
    assert live.waited_for("r1")
    assert live.waited_for("r2")
    live.settled_elsewhere("r1")
    assert await mine is None
    assert not other.done()
    assert not live.waited_for("r1")
    live.forget("r2", other)
    assert not live.waited_for("r2")
