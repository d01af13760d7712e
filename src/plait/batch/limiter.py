"""An adaptive concurrency limit (AIMD) for the calls made with one Gemini key.

The limit starts at the ceiling the user allows (`--concurrency`). A 429 from the
provider halves it (`throttled`), at most once per cooldown — the smoothed time a slot
is held — so a burst of 429s from requests already in flight counts as one signal, as
TCP counts one loss per round trip. Each success adds 1/limit, about one slot per
round of successes, never above the ceiling.

Fast recovery: a success of a call that started after the last 429 shows that the
current rate is accepted again (a per-minute quota window has moved on). Such
successes add a whole slot each (the limit doubles per round) until it is back at
three quarters of what it was before the last halving, then growth is additive again:
CUBIC's fast convergence toward the last known good value, kept below it. Without
it, a batch that waited out a quota window went on at half speed for as long as the
window itself.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from plait.providers.retry import RateSignals


class AimdLimiter(RateSignals):
    def __init__(
        self,
        ceiling: int,
        *,
        floor: int = 1,
        cooldown: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if ceiling < 1 or not 1 <= floor <= ceiling:
            raise ValueError("the limiter needs 1 <= floor <= ceiling")
        self.ceiling = ceiling
        self.floor = floor
        self._limit = float(ceiling)
        self._cooldown = cooldown
        self._clock = clock
        self._last_decrease = -float("inf")
        self._last_signal = -float("inf")  # the latest 429, counted or not
        self._recover_to = 0.0  # fast recovery up to here (¾ of the limit before halving)
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.in_flight = 0
        self.decreases = 0

    @property
    def limit(self) -> int:
        return int(self._limit)

    async def acquire(self) -> float:
        """Wait for a free slot; returns the clock reading when it was taken."""
        while self.in_flight >= self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                self._wake()  # pass on a wake-up this waiter may have consumed
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.in_flight += 1
        return self._clock()

    def release(self, taken_at: float, *, succeeded: bool) -> None:
        self.in_flight -= 1
        held = self._clock() - taken_at
        self._cooldown = 0.8 * self._cooldown + 0.2 * held
        if succeeded:
            fast = taken_at > self._last_signal and self._limit < self._recover_to
            step = 1.0 if fast else 1.0 / self._limit
            self._limit = min(float(self.ceiling), self._limit + step)
        self._wake()

    def throttled(self) -> None:
        now = self._clock()
        self._last_signal = now
        if now - self._last_decrease < self._cooldown:
            return
        self._last_decrease = now
        self._recover_to = 0.75 * self._limit
        self._limit = max(float(self.floor), self._limit / 2.0)
        self.decreases += 1

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot; leaving normally counts as a success, by an exception as none."""
        taken = await self.acquire()
        succeeded = False
        try:
            yield
            succeeded = True
        finally:
            self.release(taken, succeeded=succeeded)

    def _wake(self) -> None:
        free = self.limit - self.in_flight
        for waiter in list(self._waiters):
            if free <= 0:
                break
            if not waiter.done():
                waiter.set_result(None)
                free -= 1
