"""The secret → published flow cache: one query for concurrent calls, the last answer
served while an expired entry is looked up again, nothing stale after `clear()`."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from plait.publishing.lookup import PublishedFlows


def flow(name: str) -> Any:
    return SimpleNamespace(name=name, secret_expires_at=None)  # a secret that does not expire


def names(*found: Any) -> list[str]:
    return [f.name for f in found]


class Answers(PublishedFlows):
    """Each lookup takes the next answer once `release` is set (the database query seam)."""

    def __init__(self, answers: list[Any], ttl: float):
        super().__init__(db=None, ttl=ttl)  # type: ignore[arg-type]
        self.answers = answers
        self.queries = 0
        self.release = asyncio.Event()

    async def _lookup(self, key: str) -> Any:
        self.queries += 1
        answer = self.answers.pop(0)
        await self.release.wait()
        return answer


async def test_concurrent_calls_share_one_query() -> None:
    cache = Answers([None], ttl=60)
    calls = [asyncio.ensure_future(cache.by_secret("s")) for _ in range(10)]
    await asyncio.sleep(0)
    cache.release.set()
    assert await asyncio.gather(*calls) == [None] * 10
    assert cache.queries == 1


async def test_an_expired_answer_is_served_while_it_is_looked_up_again() -> None:
    cache = Answers([flow(n) for n in ("first", "second", "third", "fourth")], ttl=0)
    cache.release.set()  # ttl 0: every call finds its entry expired
    assert names(await cache.by_secret("s")) == ["first"]
    cache.release.clear()  # the next query hangs: calls must not wait for it
    assert names(await asyncio.wait_for(cache.by_secret("s"), 1)) == ["first"]
    assert names(await asyncio.wait_for(cache.by_secret("s"), 1)) == ["first"]
    cache.release.set()
    await asyncio.sleep(0)
    assert names(await cache.by_secret("s"))[0] in ("second", "third")
    assert cache.queries >= 3  # one per expired call (the last may not have started yet)


async def test_after_clear_the_next_call_waits_for_a_fresh_answer() -> None:
    cache = Answers([flow("old"), flow("new")], ttl=60)
    cache.release.set()
    assert names(await cache.by_secret("s")) == ["old"]
    cache.clear()
    assert names(await cache.by_secret("s")) == ["new"]
