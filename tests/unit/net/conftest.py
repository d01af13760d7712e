"""Fixtures for the guarded client's tests (see tests/fakes/web.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from plait.net import GuardedClient
from tests.fakes.web import LOOPBACK_ONLY, FakeResolver, LocalServer, local_server


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as state:
        yield state


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver()


@pytest.fixture
async def client(resolver: FakeResolver) -> AsyncIterator[GuardedClient]:
    """A client allowed to reach 127.0.0.1 only, resolving through the fake resolver."""
    async with GuardedClient(LOOPBACK_ONLY, resolver=resolver, time_limit=5.0) as c:
        yield c
