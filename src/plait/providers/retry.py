"""Plait's one retry policy for provider calls.

An attempt that fails in a way worth repeating raises `Transient`; the policy waits
(exponential backoff with full jitter, never less than a server's Retry-After) and tries
again, up to a bounded number of attempts, since each attempt may cost money. Anything
else an attempt raises passes straight through.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

# HTTP statuses that say "try again": rate limited, timed out, or failing on the server side.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class RateSignals(Protocol):
    """Who paces a provider's calls (the batch limiter): told of every 429 an attempt gets."""

    def throttled(self) -> None: ...


class Transient(Exception):
    """A failed attempt worth repeating.

    `problem` says what happened and `advice` what the user can do if every attempt
    fails; `retry_after` is the wait the server asked for, in seconds.
    """

    def __init__(self, problem: str, advice: str, *, retry_after: float | None = None):
        super().__init__(problem)
        self.problem = problem
        self.advice = advice
        self.retry_after = retry_after


class RetriesExhausted(Exception):
    """Every allowed attempt failed, or the server asked for a longer wait than allowed."""

    def __init__(self, last: Transient, attempts: int):
        super().__init__(f"{last.problem} (after {attempts} attempts)")
        self.last = last
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Sleep = asyncio.sleep
    jitter: Callable[[], float] = random.random  # uniform in [0, 1)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")

    async def run(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """The attempt's result; raises RetriesExhausted when no attempt succeeds."""
        for number in range(1, self.attempts + 1):
            try:
                return await attempt()
            except Transient as failure:
                wait = self.delay(number, failure.retry_after)
                if number == self.attempts or wait > self.max_delay:
                    raise RetriesExhausted(failure, number) from failure
                await self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def delay(self, failed_attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the n-th failure: full jitter, at least `retry_after`."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (failed_attempts - 1))
        jittered = self.jitter() * ceiling
        return jittered if retry_after is None else max(retry_after, jittered)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are GMT anyway
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())
