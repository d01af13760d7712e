"""`PLAIT_REDIS_URL`, `PLAIT_BLOB_URL` and `PLAIT_RATE_LIMIT_STORAGE`: what they accept,
what they refuse (naming the variable, never echoing a password), what they choose; the
database pool (`PLAIT_DATABASE_POOL_SIZE`, `PLAIT_DATABASE_POOL_OVERFLOW`)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from plait.cli.app import settings_problems
from plait.settings import PoolSize, S3Location, Settings
from plait.store.db import open_database


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    ["redis://cache:6379/0", "redis://:pw@10.0.0.5", "rediss://u:pw@cache.example:6380/2",
     "unix:///run/redis.sock"],
)  # fmt: skip
def test_redis_urls_are_accepted(url: str) -> None:
    assert _settings(PLAIT_REDIS_URL=url).redis_url == url


@pytest.mark.parametrize(
    ("url", "bucket", "prefix", "key"),
    [
        ("s3://plait-blobs", "plait-blobs", "", "ab/cd"),
        ("s3://plait-blobs/", "plait-blobs", "", "ab/cd"),
        ("s3://plait.blobs/team/images/", "plait.blobs", "team/images", "team/images/ab/cd"),
    ],
)
def test_blob_urls_name_a_bucket_and_a_prefix(url: str, bucket: str, prefix: str, key: str) -> None:
    where = _settings(PLAIT_BLOB_URL=url).blob_location
    assert where == S3Location(bucket, prefix)
    assert where.key("ab/cd") == key


@pytest.mark.parametrize(
    ("variable", "url", "says"),
    [
        ("PLAIT_REDIS_URL", "http://cache:6379", "must start with redis://"),
        ("PLAIT_REDIS_URL", "cache:6379", "must start with redis://"),
        ("PLAIT_REDIS_URL", "redis://:secret@cache:port/0", "port that is not a number"),
        ("PLAIT_REDIS_URL", "redis:///0", "names no host"),
        ("PLAIT_REDIS_URL", "redis://:secret@cache:6379/zero", "'zero' is not a number"),
        ("PLAIT_BLOB_URL", "/var/blobs", "must start with s3://"),
        ("PLAIT_BLOB_URL", "gs://bucket/x", "must start with s3://"),
        ("PLAIT_BLOB_URL", "s3://Bucket_Name/x", "is not a valid S3 bucket name"),
        ("PLAIT_BLOB_URL", "s3://ab", "is not a valid S3 bucket name"),
        ("PLAIT_BLOB_URL", "s3://bucket/a//b", "has an empty, . or .. part"),
        ("PLAIT_BLOB_URL", "s3://bucket/a/../b", "has an empty, . or .. part"),
        ("PLAIT_BLOB_URL", "s3://key:secret@bucket/x", "takes no user"),
        ("PLAIT_BLOB_URL", "s3://bucket/x?region=eu", "takes no user, port, query"),
    ],
)
def test_bad_urls_are_refused_by_name_without_their_password(
    variable: str, url: str, says: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(**{variable: url})
    [problem] = settings_problems(refused.value)
    assert problem.startswith(f"{variable}: ")
    assert says in problem
    assert "secret" not in problem


def test_the_default_is_one_process_with_local_files() -> None:
    settings = _settings()
    assert settings.redis_url is None
    assert settings.blob_location is None
    assert settings.rate_limit_uri == "memory://"


def test_redis_holds_the_rate_limits_unless_another_store_is_named() -> None:
    redis = "redis://cache:6379/0"
    assert _settings(PLAIT_REDIS_URL=redis).rate_limit_uri == redis
    named = _settings(PLAIT_REDIS_URL=redis, PLAIT_RATE_LIMIT_STORAGE="memcached://m:11211")
    assert named.rate_limit_uri == "memcached://m:11211"


def test_the_database_pool_follows_the_run_concurrency_unless_set() -> None:
    assert _settings().database_pool() == PoolSize(32, 10)
    assert _settings(PLAIT_RUN_CONCURRENCY="8").database_pool() == PoolSize(8, 10)
    assert _settings().database_pool(concurrency=4) == PoolSize(4, 10)  # plait worker -c 4
    chosen = _settings(PLAIT_DATABASE_POOL_SIZE="20", PLAIT_DATABASE_POOL_OVERFLOW="0")
    assert chosen.database_pool(concurrency=4) == PoolSize(20, 0)


async def test_a_postgresql_engine_keeps_the_pool_it_is_given(postgres_url: str) -> None:
    db = await open_database(postgres_url, pool=PoolSize(3, 1))
    try:
        pool: Any = db.engine.pool
        assert (pool.size(), pool._max_overflow) == (3, 1)
    finally:
        await db.close()
