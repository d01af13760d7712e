"""The `BlobStore` contract: bytes stored by their SHA-256, equal bytes stored once,
readable at once and after the store is reopened; ids that are not hashes find nothing."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from plait.media.blobs import BlobNotFound, BlobStore, LocalBlobStore

Opener = Callable[[], AbstractAsyncContextManager[BlobStore]]


def _local(root: Path) -> Opener:
    @asynccontextmanager
    async def opened() -> AsyncIterator[BlobStore]:
        store = LocalBlobStore(root, recent_bytes=0)  # reads come from the files
        try:
            yield store
        finally:
            await store.close()

    return opened


STORES: dict[str, Callable[[Path], Opener]] = {"local files": _local}


@pytest.fixture(params=sorted(STORES))
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the same store each time (a new process on the same data)."""
    return STORES[request.param](tmp_path / "blobs")


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
