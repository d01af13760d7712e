"""`RunRelay` on in-memory signals: what one process's runs say reaches its own waiters
and workers, and nothing is relayed when signals stay in the process."""

from __future__ import annotations

import asyncio

from plait.engine.events import Event, EventBus, EventKind
from plait.engine.live import LiveRuns
from plait.engine.relay import RunRelay, events_channel
from plait.signals import InMemorySignals, Message
from plait.signals.redis import RedisSignals


async def _nothing() -> None:
    return None


async def test_settled_and_cancel_requests_reach_waiters_and_the_worker() -> None:
    live = LiveRuns()
    relay = RunRelay(InMemorySignals(), live, _nothing)
    cancelled: list[str] = []

    def cancel_here(run_id: str) -> bool:
        cancelled.append(run_id)
        return True

    await relay.start(cancel_here)
    try:
        waiter = live.waiter("r1")
        await relay.settled("r1")
        assert await waiter is None
        await relay.request_cancel("r2")
        assert cancelled == ["r2"]
    finally:
        await relay.close()


async def test_runs_are_not_relayed_within_one_process() -> None:
    signals = InMemorySignals()
    relay = RunRelay(signals, LiveRuns(), _nothing)
    heard: list[Message] = []
    async with signals.listen(events_channel("r1"), heard.append):
        assert relay.follow("r1", EventBus(replay=True), {}) is None
    assert heard == []


async def test_a_run_says_its_node_events_only_once_a_stream_follows_it(redis_url: str) -> None:
    """Across processes (Redis), a run nobody follows says only that it finished; a stream
    that asks (`runs:replay`) hears the events so far, then each one as it comes."""
    signals = RedisSignals(redis_url)
    relay = RunRelay(signals, LiveRuns(), _nothing)
    await relay.start(lambda run_id: False)
    bus = EventBus(replay=True)
    heard: asyncio.Queue[Message] = asyncio.Queue()
    try:
        async with signals.listen(events_channel("r1"), heard.put_nowait):
            report = relay.follow("r1", bus, {})
            assert report is not None
            bus.emit(Event(EventKind.RUN_STARTED, "r1"))
            bus.emit(Event(EventKind.NODE_STARTED, "r1", "a"))
            await relay.request_replay("r1")  # a stream joins
            said = [await heard.get(), await heard.get()]
            assert [(m["kind"], m["node_id"]) for m in said if isinstance(m, dict)] == [
                ("run_started", None),
                ("node_started", "a"),
            ]
            bus.emit(Event(EventKind.NODE_STARTED, "r1", "b"))
            bus.emit(Event(EventKind.RUN_FINISHED, "r1", data={"status": "succeeded"}))
            report.ended()
            said = [await heard.get(), await heard.get()]
            assert [(m["kind"], m["node_id"]) for m in said if isinstance(m, dict)] == [
                ("node_started", "b"),
                ("run_finished", None),
            ]
        async with signals.listen(events_channel("r2"), heard.put_nowait):
            bus2 = EventBus(replay=True)
            quiet = relay.follow("r2", bus2, {})  # nobody asks for its events
            assert quiet is not None
            bus2.emit(Event(EventKind.NODE_STARTED, "r2", "a"))
            bus2.emit(Event(EventKind.RUN_FINISHED, "r2", data={"status": "succeeded"}))
            quiet.ended()
            finished = await heard.get()
            assert isinstance(finished, dict)
            assert finished["kind"] == "run_finished"  # the node event was not said
    finally:
        await relay.close()
        await signals.close()
