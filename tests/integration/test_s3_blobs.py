"""`S3BlobStore` beyond the contract: objects laid out as the local store's files, under
the prefix; a store that cannot be reached is `BlobStoreUnavailable` (never "missing"),
named by its URL, without credentials."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import boto3
import pytest

from plait.media.blobs import BlobNotFound, BlobStoreUnavailable
from plait.media.s3_blobs import S3BlobStore
from plait.settings import S3Location
from tests.services import S3_CREDENTIALS, free_port


async def test_objects_sit_under_the_prefix_as_the_local_files_do(s3_bucket: str) -> None:
    store = S3BlobStore(S3Location(s3_bucket, "a/b"))
    try:
        sha = await store.put(b"laid out")
        assert await store.put(b"laid out") == sha  # again: the same object
    finally:
        await store.close()
    listed = boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"a/b/{sha[:2]}/{sha[2:]}"]
    assert sha == hashlib.sha256(b"laid out").hexdigest()


async def test_a_store_nobody_answers_for_is_unavailable_not_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nobody there
    store = S3BlobStore(S3Location("plait-blobs", "p"), timeout=2)
    try:
        calls: list[Callable[[], Awaitable[object]]] = [
            store.check,
            lambda: store.put(b"x"),
            lambda: store.get("0" * 64),
            lambda: store.exists("0" * 64),
        ]
        for call in calls:
            with pytest.raises(BlobStoreUnavailable) as failed:
                await call()
            assert "s3://plait-blobs/p" in str(failed.value)
            assert S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in str(failed.value)
        with pytest.raises(BlobNotFound):  # not a hash: refused before any call
            await store.get("../../x")
    finally:
        await store.close()


async def test_a_missing_bucket_fails_the_check(s3_bucket: str) -> None:
    store = S3BlobStore(S3Location(f"{s3_bucket}-gone", ""))
    try:
        with pytest.raises(BlobStoreUnavailable) as failed:
            await store.check()
        assert f"s3://{s3_bucket}-gone" in str(failed.value)
    finally:
        await store.close()
