"""Fixtures for the real scale-out services (loaded from tests/conftest.py).

The servers start once per session, on first use; each test gets its own database,
a flushed Redis and a new bucket.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services import S3, Postgres, Redis, postgres_server, redis_server, s3_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres: Postgres) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty PostgreSQL database (psycopg 3)."""
    url = postgres.new_database()
    yield url
    postgres.drop_database(url)


@pytest.fixture(scope="session")
def redis_service() -> Iterator[Redis]:
    with redis_server() as server:
        yield server


@pytest.fixture
def redis_url(redis_service: Redis) -> str:
    """A flushed Redis."""
    redis_service.flush()
    return redis_service.url()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    with s3_server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3: S3, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket; the standard AWS variables point at the test server."""
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    return s3.new_bucket()
