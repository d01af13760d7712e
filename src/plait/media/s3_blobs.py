"""Blobs in an S3-compatible store (`PLAIT_BLOB_URL=s3://bucket/prefix`), shared by every
process on every machine.

A blob is the object `prefix/ab/cdef…` (its SHA-256; the local store's layout, so a data
dir's `blobs/` copied under the prefix is a ready store). boto3 reads the standard
`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL` (any S3-compatible
server) itself; `AWS_REGION` is passed on. Its calls block, so they run in a pool of
threads of this store's own, bounded like the client's connection pool. `put` returns once
the object is written (any process may read it next); writing equal bytes again writes the
same object, so a repeated `put` changes nothing. The blobs stored last are also kept in
memory (`recent_bytes`), as the local store does: the next node usually reads them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from plait.media.blobs import (
    BlobNotFound,
    BlobStoreUnavailable,
    RecentBlobs,
    blob_name,
    hashed,
    made_and_hashed,
)
from plait.settings import S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")

_MISSING = {"404", "NoSuchKey", "NotFound"}  # S3's error codes for an absent object


class S3BlobStore:
    def __init__(
        self,
        location: S3Location,
        *,
        connections: int = 16,
        recent_bytes: int = 64 * 1024 * 1024,
        timeout: float = 60.0,
    ):
        self.where = location
        session = boto3.session.Session()
        region = os.environ.get("AWS_REGION") or None
        config = Config(
            max_pool_connections=connections,
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"mode": "standard", "max_attempts": 4},
        )
        self._client: S3Client = session.client("s3", region_name=region, config=config)
        # the readiness check's own client: one quick attempt, so checks of a store that
        # hangs never hold the threads that store and read blobs
        quick = Config(connect_timeout=2, read_timeout=2, retries={"max_attempts": 1})
        self._probe: S3Client = session.client("s3", region_name=region, config=quick)
        self._threads = ThreadPoolExecutor(connections, thread_name_prefix="plait-s3")
        self._recent = RecentBlobs(recent_bytes)

    def _key(self, sha256: str) -> str:
        return self.where.key(blob_name(sha256))

    async def put(self, data: bytes) -> str:
        sha256 = await hashed(data)
        await self._store(sha256, data)
        return sha256

    async def put_made(self, make: Callable[[], bytes]) -> tuple[str, bytes]:
        data, sha256 = await made_and_hashed(make)
        await self._store(sha256, data)
        return sha256, data

    async def _store(self, sha256: str, data: bytes) -> None:
        key = self._key(sha256)
        if sha256 not in self._recent:  # stored by this process already
            await self._call(
                f"store blob {sha256[:12]}…",
                partial(self._client.put_object, Bucket=self.where.bucket, Key=key, Body=data),
            )
        self._recent.remember(sha256, data)

    async def get(self, sha256: str) -> bytes:
        key = self._key(sha256)
        recent = self._recent.get(sha256)
        if recent is not None:
            return recent
        try:
            return await self._call(f"read blob {sha256[:12]}…", partial(self._read, key))
        except ClientError as exc:
            if _missing(exc):
                raise BlobNotFound(f"blob {sha256[:12]}… is not in the store") from None
            raise self._unavailable(f"read blob {sha256[:12]}…", exc) from exc

    def _read(self, key: str) -> bytes:
        answer = self._client.get_object(Bucket=self.where.bucket, Key=key)
        return answer["Body"].read()

    async def exists(self, sha256: str) -> bool:
        try:
            key = self._key(sha256)
        except BlobNotFound:
            return False
        if sha256 in self._recent:
            return True
        try:
            await self._call(
                f"look for blob {sha256[:12]}…",
                partial(self._client.head_object, Bucket=self.where.bucket, Key=key),
            )
        except ClientError as exc:
            if _missing(exc):
                return False
            raise self._unavailable(f"look for blob {sha256[:12]}…", exc) from exc
        return True

    async def location(self, sha256: str) -> str:
        return f"s3://{self.where.bucket}/{self._key(sha256)}"

    async def check(self) -> None:
        """The bucket answers and these credentials may use it."""
        try:
            await asyncio.to_thread(self._probe.head_bucket, Bucket=self.where.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("reach the bucket", exc) from exc

    async def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._client.close()
        self._probe.close()

    async def _call(self, doing: str, call: Callable[[], T]) -> T:
        """`call` in this store's threads; a ClientError (the server's answer) is left to
        the caller, which knows what a missing object means; anything else is a store
        that cannot be reached."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, call)
        except BotoCoreError as exc:
            raise self._unavailable(doing, exc) from exc

    def _unavailable(self, doing: str, exc: Exception) -> BlobStoreUnavailable:
        return BlobStoreUnavailable(
            f"could not {doing} in {self.where} ({_code(exc)}): check PLAIT_BLOB_URL, "
            "the AWS_* settings and that the store is up"
        )


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error: Any = exc.response.get("Error", {})
        return str(error.get("Code") or "error")
    return type(exc).__name__


def _missing(exc: ClientError) -> bool:
    return _code(exc) in _MISSING


__all__ = ["S3BlobStore"]
