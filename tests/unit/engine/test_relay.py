"""`RunRelay` on in-memory signals: what one process's runs say reaches its own waiters
and workers, and nothing is relayed when signals stay in the process."""

from __future__ import annotations

from plait.engine.events import EventBus
from plait.engine.live import LiveRuns
from plait.engine.relay import RunRelay, events_channel
from plait.signals import InMemorySignals, Message


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
