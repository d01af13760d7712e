"""The first admin is made once, however many processes or requests try at the same
moment: from PLAIT_ADMIN_EMAIL / PLAIT_ADMIN_PASSWORD at start-up or through set-up links."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from plait.settings import Settings
from plait.store import accounts
from plait.store.db import Database, open_database
from plait.store.tables import User
from tests.server import LiveServer, server_settings
from tests.services import Postgres


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'plait.db'}"


@pytest.fixture
async def two_processes(database_url: str) -> AsyncIterator[list[Database]]:
    """Two engines on one database, as two processes have."""
    first = await open_database(database_url)
    second = await open_database(database_url)
    yield [first, second]
    await first.close()
    await second.close()


async def _users(db: Database) -> list[str]:
    async with db.new_session() as session:
        return list(await session.scalars(select(User.email)))


async def test_concurrent_first_admins_make_exactly_one(two_processes: list[Database]) -> None:
    async def attempt(n: int) -> User | None:
        async with two_processes[n % 2].new_session() as session:
            return await accounts.create_first_admin(session, f"admin{n}@example.com", "hash")

    made = await asyncio.gather(*(attempt(n) for n in range(8)))
    winners = [user for user in made if user is not None]
    assert len(winners) == 1
    assert await _users(two_processes[1]) == [winners[0].email]


async def test_no_first_admin_once_an_account_exists(two_processes: list[Database]) -> None:
    first, second = two_processes
    async with first.new_session() as session, session.begin():
        await accounts.create_user(session, "old@example.com", "hash", is_admin=True)
    async with second.new_session() as session:
        assert await accounts.create_first_admin(session, "new@example.com", "hash") is None
    assert await _users(first) == ["old@example.com"]


@pytest.fixture
def two_servers(tmp_path: Path, postgres: Postgres) -> Iterator[list[LiveServer]]:
    """Two servers on one fresh PostgreSQL database, with no admin in the environment."""
    url = postgres.new_database()

    def settings(name: str) -> Settings:
        return server_settings(
            tmp_path / name,
            PLAIT_DATABASE_URL=url,
            PLAIT_ADMIN_EMAIL=None,
            PLAIT_ADMIN_PASSWORD=None,
        )

    with LiveServer(settings("a")) as a, LiveServer(settings("b")) as b:
        yield [a, b]
    postgres.drop_database(url)


def test_set_up_links_of_two_servers_make_one_admin(two_servers: list[LiveServer]) -> None:
    def set_up(n: int) -> httpx.Response:
        live = two_servers[n]
        token = live.app.state.plait.setup_token
        assert token is not None
        body = {"token": token, "email": f"owner{n}@example.com", "password": "long enough pw"}
        with live.client() as client:
            return client.post("/api/auth/setup", json=body)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(set_up, range(2)))
    assert sorted(answer.status_code for answer in answers) == [200, 409], [a.text for a in answers]
    loser = two_servers[[a.status_code for a in answers].index(409)]
    with loser.client() as client:  # the other server no longer offers set-up
        assert client.get("/api/auth/state").json()["setup_required"] is False


async def test_the_count_of_users_after_a_race_is_one(two_processes: list[Database]) -> None:
    async def attempt(n: int) -> None:
        async with two_processes[n % 2].new_session() as session:
            await accounts.create_first_admin(session, "same@example.com", "hash")

    await asyncio.gather(*(attempt(n) for n in range(4)))
    async with two_processes[0].new_session() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
