"""The `BlobStore` contract: bytes stored by their SHA-256, equal bytes stored once,
readable at once and after the store is reopened; ids that are not hashes find nothing.

Run against local files and `S3BlobStore` on a real S3-compatible server (`s3_bucket`)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from plait.media.blobs import BlobNotFound, BlobStore, LocalBlobStore
from plait.media.s3_blobs import S3BlobStore
from plait.settings import S3Location

Opener = Callable[[], AbstractAsyncContextManager[BlobStore]]


def _opener(make: Callable[[], BlobStore]) -> Opener:
    @asynccontextmanager
    async def opened() -> AsyncIterator[BlobStore]:
        store = make()
        try:
            yield store
        finally:
            await store.close()

    return opened


def _local(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    # recent_bytes=0: reads come from the files
    return _opener(lambda: LocalBlobStore(tmp_path / "blobs", recent_bytes=0))


def _s3(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    where = S3Location(request.getfixturevalue("s3_bucket"), "plait/blobs")
    return _opener(lambda: S3BlobStore(where, recent_bytes=0))  # reads come from the bucket


STORES: dict[str, Callable[[pytest.FixtureRequest, Path], Opener]] = {
    "local files": _local,
    "s3": _s3,
}


@pytest.fixture(params=sorted(STORES))
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the same store each time (a new process on the same data)."""
    return STORES[request.param](request, tmp_path)


async def test_bytes_are_stored_by_their_sha256(open_store: Opener) -> None:
    async with open_store() as store:
        sha = await store.put(b"hello")
        assert sha == hashlib.sha256(b"hello").hexdigest()
        assert await store.put(b"hello") == sha  # equal bytes, one blob
        assert await store.get(sha) == b"hello"
        assert await store.exists(sha)


async def test_blobs_outlive_the_store_that_wrote_them(open_store: Opener) -> None:
    async with open_store() as store:
        sha = await store.put(b"kept")
        made, data = await store.put_made(lambda: b"made " * 1000)
    async with open_store() as store:
        assert await store.get(sha) == b"kept"
        assert await store.get(made) == data == b"made " * 1000
        assert made == hashlib.sha256(data).hexdigest()


async def test_unknown_and_malformed_ids_find_nothing(open_store: Opener) -> None:
    async with open_store() as store:
        assert not await store.exists("0" * 64)
        with pytest.raises(BlobNotFound):
            await store.get("0" * 64)
        for bad in ["../../etc/passwd", "ab/../../x", "A" * 64, ""]:
            with pytest.raises(BlobNotFound):
                await store.get(bad)


async def test_a_reachable_store_passes_its_check_and_names_where_blobs_live(
    open_store: Opener,
) -> None:
    async with open_store() as store:
        await store.check()
        sha = await store.put(b"placed")
        place = await store.location(sha)
        assert place.endswith(f"{sha[:2]}/{sha[2:]}")
        with pytest.raises(BlobNotFound):
            await store.location("../x")
