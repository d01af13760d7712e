"""The AIMD limiter: halves on 429s (once per cooldown), grows back by 1/limit per success."""

from __future__ import annotations

import asyncio

import pytest

from plait.batch.limiter import AimdLimiter
from plait.providers.base import ImageRequest, TextPart
from plait.providers.gemini import GeminiProvider
from tests.fakes.gemini import FakeGemini, Fault


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_429_halves_the_limit_down_to_the_floor() -> None:
    clock = Clock()
    limiter = AimdLimiter(100, cooldown=1.0, clock=clock)
    for expected in (50, 25, 12, 6, 3, 1, 1):
        clock.now += 2
        limiter.throttled()
        assert limiter.limit == expected


def test_429s_within_the_cooldown_count_once() -> None:
    clock = Clock()
    limiter = AimdLimiter(64, cooldown=1.0, clock=clock)
    for _ in range(30):  # a burst from requests already in flight
        limiter.throttled()
    assert (limiter.limit, limiter.decreases) == (32, 1)
    clock.now = 1.5
    limiter.throttled()
    assert (limiter.limit, limiter.decreases) == (16, 2)


async def test_successes_add_about_one_slot_per_round_and_never_pass_the_ceiling() -> None:
    clock = Clock()
    limiter = AimdLimiter(10, cooldown=0.0, clock=clock)
    limiter.throttled()
    assert limiter.limit == 5
    for _ in range(6):  # about one round of successes at limit 5
        limiter.release(await limiter.acquire(), succeeded=True)
    assert limiter.limit == 6
    for _ in range(200):
        limiter.release(await limiter.acquire(), succeeded=True)
    assert limiter.limit == 10


async def test_after_a_429_successes_of_later_calls_restore_three_quarters_fast() -> None:
    clock = Clock()
    limiter = AimdLimiter(100, cooldown=1.0, clock=clock)
    before = [await limiter.acquire() for _ in range(100)]
    clock.now = 5.0
    limiter.throttled()  # limit 50; every call in flight waits out the quota window
    clock.now = 60.0
    for taken in before:  # calls that started before the 429: additive growth only
        limiter.release(taken, succeeded=True)
    assert limiter.limit == 51
    clock.now = 61.0
    later = [await limiter.acquire() for _ in range(24)]
    for taken in later:
        limiter.release(taken, succeeded=True)
    assert limiter.limit == 75  # one slot per success up to ¾ of 100
    for _ in range(30):
        limiter.release(await limiter.acquire(), succeeded=True)
    assert limiter.limit == 76  # then about one slot per round (of 76 successes) again


async def test_a_429_after_a_call_started_stops_its_fast_growth() -> None:
    clock = Clock()
    limiter = AimdLimiter(100, cooldown=1.0, clock=clock)
    limiter.throttled()  # limit 50
    clock.now = 2.0
    taken = await limiter.acquire()
    clock.now = 3.0
    limiter.throttled()  # limit 25 (the cooldown of 1 s has passed)
    limiter.release(taken, succeeded=True)
    assert limiter.limit == 25  # 25 + 1/25: the call started before the latest 429


async def test_failures_do_not_grow_the_limit() -> None:
    limiter = AimdLimiter(8, cooldown=0.0, clock=Clock())
    limiter.throttled()
    for _ in range(50):
        limiter.release(await limiter.acquire(), succeeded=False)
    assert limiter.limit == 4


async def test_acquire_waits_while_the_limit_is_in_flight() -> None:
    limiter = AimdLimiter(2, clock=Clock())
    first, second = await limiter.acquire(), await limiter.acquire()
    third = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    assert not third.done()
    limiter.release(first, succeeded=True)
    await asyncio.wait_for(third, 1)
    assert limiter.in_flight == 2
    limiter.release(second, succeeded=True)
    limiter.release(third.result(), succeeded=True)
    assert limiter.in_flight == 0


async def test_a_halved_limit_holds_back_new_work_until_in_flight_drops() -> None:
    limiter = AimdLimiter(4, cooldown=0.0, clock=Clock())
    held = [await limiter.acquire() for _ in range(4)]
    limiter.throttled()  # limit 2 with 4 in flight
    waiting = asyncio.create_task(limiter.acquire())
    for taken in held[:2]:
        limiter.release(taken, succeeded=False)
        await asyncio.sleep(0)
        assert not waiting.done()  # 3, then 2 in flight: still at the limit
    limiter.release(held[2], succeeded=False)
    await asyncio.wait_for(waiting, 1)


async def test_a_cancelled_waiter_passes_its_wake_up_on() -> None:
    limiter = AimdLimiter(1, clock=Clock())
    taken = await limiter.acquire()
    first = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    limiter.release(taken, succeeded=True)
    first.cancel()
    await asyncio.wait_for(second, 1)
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_the_slot_context_counts_success_and_failure() -> None:
    limiter = AimdLimiter(3, cooldown=0.0, clock=Clock())
    limiter.throttled()  # limit 1
    with pytest.raises(RuntimeError):
        async with limiter.slot():
            raise RuntimeError
    assert limiter.in_flight == 0
    assert limiter.limit == 1
    async with limiter.slot():
        pass
    assert limiter.limit == 2


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="floor"):
        AimdLimiter(0)
    with pytest.raises(ValueError, match="floor"):
        AimdLimiter(2, floor=3)


async def test_the_gemini_provider_reports_each_429_it_gets(gemini_fake: FakeGemini) -> None:
    class Signals:
        count = 0

        def throttled(self) -> None:
            self.count += 1

    async def no_wait(seconds: float) -> None:
        return None

    provider = GeminiProvider("key", gemini_fake.base_url, sleep=no_wait)
    signals = Signals()
    provider.rate_signals = signals
    gemini_fake.fail(Fault.error(429, retry_after="1"), Fault.error(500), Fault.error(429))
    try:
        await provider.generate(ImageRequest("gemini-2.5-flash-image", (TextPart("x"),)))
    finally:
        await provider.aclose()
    assert signals.count == 2  # the 500 is retried too, but is no rate signal
    assert len(gemini_fake.generate_requests()) == 4
