"""The `Signals` contract: a message reaches every listener of its channel and no other
channel's, a listener that left hears nothing more, one that joins late hears nothing
said before it joined; through Redis, separate processes hear each other."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from collections.abc import AsyncIterator, Callable

import pytest

from plait.signals import InMemorySignals, Message, Signals, SignalsUnavailable, Subscription
from plait.signals.redis import RedisSignals
from tests.services import free_port

WAIT = 30  # seconds a message may take before the test fails

MakeSignals = Callable[[], Signals]


@pytest.fixture(params=["in-memory", "redis"])
async def make_signals(request: pytest.FixtureRequest) -> AsyncIterator[MakeSignals]:
    """Instances that hear each other: one shared instance in memory; for Redis, a new
    connection each time, all to one flushed Redis."""
    made: list[Signals] = []
    if request.param == "in-memory":
        one = InMemorySignals()
        made.append(one)

        def make() -> Signals:
            return one
    else:
        url: str = request.getfixturevalue("redis_url")

        def make() -> Signals:
            made.append(RedisSignals(url))
            return made[-1]

    yield make
    for signals in made:
        await signals.close()


async def next_of(subscription: Subscription) -> Message:
    async with asyncio.timeout(WAIT):
        return await subscription.get()


async def test_every_listener_of_a_channel_gets_each_message(make_signals: MakeSignals) -> None:
    publisher, first, second = make_signals(), make_signals(), make_signals()
    async with first.subscribe("run:1") as one, second.subscribe("run:1") as two:
        await publisher.publish("run:1", {"kind": "node_started", "node": "image"})
        await publisher.publish("run:1", b"\x00raw bytes")
        assert await next_of(one) == {"kind": "node_started", "node": "image"}
        assert await next_of(two) == {"kind": "node_started", "node": "image"}
        assert await next_of(one) == b"\x00raw bytes"
        assert await next_of(two) == b"\x00raw bytes"


async def test_a_channel_hears_only_its_own_messages(make_signals: MakeSignals) -> None:
    publisher, listener = make_signals(), make_signals()
    async with listener.subscribe("run:a") as a, listener.subscribe("run:b") as b:
        await publisher.publish("run:b", {"for": "b"})
        await publisher.publish("run:a", {"for": "a"})
        assert await next_of(a) == {"for": "a"}  # b's message, said first, never came
        assert await next_of(b) == {"for": "b"}


async def test_a_listener_that_left_hears_nothing_more(make_signals: MakeSignals) -> None:
    publisher, listener, staying = make_signals(), make_signals(), make_signals()
    heard: list[Message] = []
    async with staying.subscribe("settled") as stays:
        async with listener.listen("settled", heard.append):
            await publisher.publish("settled", {"n": 1})
            assert await next_of(stays) == {"n": 1}
        await publisher.publish("settled", {"n": 2})
        await publisher.publish("settled", {"n": 3})
        assert await next_of(stays) == {"n": 2}
        assert await next_of(stays) == {"n": 3}  # by now {"n": 2} reached everyone listening
    assert heard == [{"n": 1}]


async def test_a_late_listener_does_not_hear_what_was_said_before(
    make_signals: MakeSignals,
) -> None:
    publisher, early, late = make_signals(), make_signals(), make_signals()
    async with early.subscribe("run:7") as first:
        await publisher.publish("run:7", {"said": "before"})
        assert await next_of(first) == {"said": "before"}
        async with late.subscribe("run:7") as joined:
            await publisher.publish("run:7", {"said": "after"})
            assert await next_of(joined) == {"said": "after"}


async def test_a_failing_listener_does_not_silence_the_others(make_signals: MakeSignals) -> None:
    signals = make_signals()

    def broken(message: Message) -> None:
        raise RuntimeError("a listener's bug")

    async with signals.listen("cancel", broken), signals.subscribe("cancel") as works:
        await signals.publish("cancel", {"run_id": "r1"})
        assert await next_of(works) == {"run_id": "r1"}


async def test_only_redis_signals_reach_other_processes(redis_url: str) -> None:
    memory, redis = InMemorySignals(), RedisSignals(redis_url)
    try:
        assert (memory.shared, redis.shared) == (False, True)
    finally:
        await redis.close()


_ECHO = textwrap.dedent(
    """
    import asyncio, os, sys
    from plait.signals.redis import RedisSignals

    async def main() -> None:
        signals = RedisSignals(sys.argv[1])
        async with signals.subscribe("ping") as pings:
            print("ready", flush=True)
            ping = await pings.get()
            await signals.publish("pong", {**ping, "pid": os.getpid()})
        await signals.close()

    asyncio.run(main())
    """
)


async def test_two_processes_talk_through_one_redis(redis_url: str) -> None:
    signals = RedisSignals(redis_url)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _ECHO, redis_url, stdout=asyncio.subprocess.PIPE
    )
    try:
        async with signals.subscribe("pong") as pongs:
            assert child.stdout is not None
            ready = await asyncio.wait_for(child.stdout.readline(), WAIT)
            assert ready.strip() == b"ready"
            await signals.publish("ping", {"n": 42})
            assert await next_of(pongs) == {"n": 42, "pid": child.pid}
        assert await asyncio.wait_for(child.wait(), WAIT) == 0
        assert child.pid != os.getpid()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await signals.close()


async def test_redis_channels_of_different_databases_do_not_mix(redis_url: str) -> None:
    """Redis pub/sub ignores database numbers; two deployments on db 0 and db 1 must not
    hear each other."""
    other_db = redis_url.rsplit("/", 1)[0] + "/1"
    zero, one = RedisSignals(redis_url), RedisSignals(other_db)
    try:
        async with zero.subscribe("published") as heard:
            await one.publish("published", {"from": "db 1"})
            await zero.publish("published", {"from": "db 0"})
            assert await next_of(heard) == {"from": "db 0"}
    finally:
        await zero.close()
        await one.close()


async def test_an_unreachable_redis_fails_listening_clearly_and_publishing_quietly() -> None:
    signals = RedisSignals(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        await signals.publish("runs:settled", {"run_id": "r1"})  # logged and dropped
        with pytest.raises(SignalsUnavailable, match=r"'runs:settled'.*PLAIT_REDIS_URL"):
            async with signals.listen("runs:settled", print):
                pass
    finally:
        await signals.close()
