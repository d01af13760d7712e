"""The test services really serve: a query, a round trip, an object stored and read."""

from __future__ import annotations

import boto3
import psycopg
import redis

from tests.services import S3


def test_postgres_gives_each_test_an_empty_database(postgres_url: str) -> None:
    plain = postgres_url.replace("+psycopg", "")
    with psycopg.connect(plain) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        assert conn.execute("SELECT 1 + 1").fetchone() == (2,)


def test_redis_is_flushed_for_each_test(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("k", "v")
    assert client.get("k") == b"v"
    client.close()


def test_s3_bucket_stores_and_returns_bytes(s3: S3, s3_bucket: str) -> None:
    client = boto3.client("s3", endpoint_url=s3.endpoint)
    client.put_object(Bucket=s3_bucket, Key="a/b", Body=b"bytes")
    assert client.get_object(Bucket=s3_bucket, Key="a/b")["Body"].read() == b"bytes"
