"""The `PublishedFlowLookup` contract, on a real database: a live trigger secret finds the
version its flow publishes; unknown, retired and unpublished secrets find nothing; after
`clear()` every answer reflects the publications as they are, and after `changed()` on
any process, every process's answers do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from plait.crypto.tokens import digest
from plait.publishing.lookup import CHANGED, PublishedFlowLookup, PublishedFlows
from plait.signals import InMemorySignals, Signals
from plait.signals.redis import RedisSignals
from plait.store import flows as flow_store
from plait.store.db import Database
from plait.store.flows import PublishedFlow
from plait.store.tables import utcnow
from tests.integration.api import flows

LOOKUPS: dict[str, Callable[[Database], PublishedFlowLookup]] = {
    "in-process, cached": lambda db: PublishedFlows(db, ttl=60),
    "in-process, expiring at once": lambda db: PublishedFlows(db, ttl=0),
}


@pytest.fixture(params=sorted(LOOKUPS))
def lookup(request: pytest.FixtureRequest, db: Database) -> PublishedFlowLookup:
    return LOOKUPS[request.param](db)


async def found(lookup: PublishedFlowLookup, secret: str) -> PublishedFlow:
    published = await lookup.by_secret(secret)
    assert published is not None, "the secret found no published flow"
    return published


class Flows:
    """Flows, versions, publications and secrets written through the store."""

    def __init__(self, db: Database):
        self.db = db

    async def published(self, *documents: dict[str, Any], secret: str) -> str:
        """A flow with these versions, the last one published, answering to `secret`."""
        async with self.db.new_session() as session, session.begin():
            record = await flow_store.create_flow(session, None, "f", rate_limit_per_minute=7)
            for n, document in enumerate(documents):
                await flow_store.save_version(session, record, f"{n}" * 64, document, None)
            await flow_store.publish(session, record.id, record.current_version)
            await flow_store.add_secret(session, record.id, digest(secret), secret[-4:], None)
            return record.id

    async def publish(self, flow_id: str, version: int) -> None:
        async with self.db.new_session() as session, session.begin():
            await flow_store.publish(session, flow_id, version)

    async def unpublish(self, flow_id: str) -> None:
        async with self.db.new_session() as session, session.begin():
            await flow_store.unpublish(session, flow_id)

    async def rotate(self, flow_id: str, secret: str, grace: timedelta) -> None:
        async with self.db.new_session() as session, session.begin():
            retire = utcnow() + grace
            await flow_store.add_secret(session, flow_id, digest(secret), secret[-4:], retire)


async def test_a_live_secret_finds_its_published_version(
    db: Database, lookup: PublishedFlowLookup
) -> None:
    flow_id = await Flows(db).published(flows.echo("v1"), flows.echo("v2"), secret="s" * 43)
    found = await lookup.by_secret("s" * 43)
    assert found is not None
    assert (found.flow_id, found.version, found.hash) == (flow_id, 2, "1" * 64)
    assert found.document == flows.echo("v2")
    assert (found.rate_limit_per_minute, found.daily_budget_usd) == (7, None)
    assert await lookup.by_secret("t" * 43) is None


async def test_after_clear_answers_follow_the_publication(
    db: Database, lookup: PublishedFlowLookup
) -> None:
    store = Flows(db)
    flow_id = await store.published(flows.echo("v1"), flows.echo("v2"), secret="s" * 43)
    assert (await found(lookup, "s" * 43)).version == 2
    await store.publish(flow_id, 1)  # a rollback
    lookup.clear()
    assert (await found(lookup, "s" * 43)).version == 1
    await store.unpublish(flow_id)
    lookup.clear()
    assert await lookup.by_secret("s" * 43) is None


async def test_a_rotated_secret_serves_through_its_grace_period_only(
    db: Database, lookup: PublishedFlowLookup
) -> None:
    store = Flows(db)
    flow_id = await store.published(flows.echo(), secret="old" * 15)
    await store.rotate(flow_id, "new" * 15, grace=timedelta(hours=1))
    lookup.clear()
    old = await lookup.by_secret("old" * 15)
    assert old is not None
    assert old.secret_expires_at is not None
    assert (await found(lookup, "new" * 15)).flow_id == flow_id
    await store.rotate(flow_id, "newest" * 8, grace=timedelta(0))  # the others retire now
    lookup.clear()
    assert await lookup.by_secret("old" * 15) is None
    assert await lookup.by_secret("new" * 15) is None
    assert (await found(lookup, "newest" * 8)).flow_id == flow_id


@pytest.fixture(params=["in-memory", "redis"])
async def two_signals(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Signals, Signals]]:
    """Signals of two processes that hear each other: in memory, one process's; through
    Redis, two connections to one Redis."""
    if request.param == "in-memory":
        one = InMemorySignals()
        yield one, one
        return
    url: str = request.getfixturevalue("redis_url")
    first, second = RedisSignals(url), RedisSignals(url)
    yield first, second
    await first.close()
    await second.close()


async def test_a_change_announced_by_one_process_clears_every_processs_cache(
    db: Database, two_signals: tuple[Signals, Signals]
) -> None:
    """Caches that never expire on their own: only the announcement can change answers."""
    store = Flows(db)
    flow_id = await store.published(flows.echo("v1"), flows.echo("v2"), secret="s" * 43)
    here = PublishedFlows(db, ttl=3600, signals=two_signals[0])
    there = PublishedFlows(db, ttl=3600, signals=two_signals[1])
    async with here.listening(), there.listening():
        assert (await found(here, "s" * 43)).version == 2
        assert (await found(there, "s" * 43)).version == 2
        await store.publish(flow_id, 1)  # a rollback
        assert (await found(there, "s" * 43)).version == 2  # cached: it has not been told
        heard = asyncio.Event()
        async with two_signals[1].listen(CHANGED, lambda message: heard.set()):
            await here.changed()
            async with asyncio.timeout(30):
                await heard.wait()
        assert (await found(there, "s" * 43)).version == 1
        assert (await found(here, "s" * 43)).version == 1
