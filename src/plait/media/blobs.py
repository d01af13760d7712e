"""Content-addressed blob storage: bytes in, SHA-256 out.

`BlobStore` is everything the server, the nodes and the CLI use; `LocalBlobStore` (files
under the data dir) is the default, `plait.media.s3_blobs.S3BlobStore` the shared one
(`PLAIT_BLOB_URL`); both pass `tests/contracts/test_blob_store.py`."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Protocol

from plait.errors import PlaitError, ServiceUnavailable
from plait.media import images, work
from plait.media.image_ref import ImageRef
from plait.store.writer import Writer

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobNotFound(PlaitError):
    pass


class BlobStoreUnavailable(ServiceUnavailable):
    """The store cannot be reached or refuses the operation (not: the blob is missing)."""

    service = "the blob store"


class BlobStore(Protocol):
    async def put(self, data: bytes) -> str:
        """Store `data` (equal bytes once) and return its SHA-256 in hex."""
        ...

    async def put_made(self, make: Callable[[], bytes]) -> tuple[str, bytes]:
        """Run `make` (CPU-bound) off the event loop and store what it returns, in the
        same thread hop; returns the hash and the bytes."""
        ...

    async def get(self, sha256: str) -> bytes:
        """The bytes; `BlobNotFound` when no such blob is stored or `sha256` is no hash."""
        ...

    async def exists(self, sha256: str) -> bool: ...

    async def location(self, sha256: str) -> str:
        """Where the blob lives, for people (a file's path, an `s3://` URI), once stored."""
        ...

    async def check(self) -> None:
        """Raise `BlobStoreUnavailable` unless the store can be read and written now."""
        ...

    async def close(self) -> None:
        """Finish pending writes and let go of files or connections."""
        ...


class BlobWriteError(PlaitError):
    pass


def blob_name(sha256: str) -> str:
    """`ab/cdef…`: the blob's name under the store's root or prefix (the only name input:
    anything that is not a SHA-256 in hex is refused)."""
    if not _SHA256.match(sha256):
        raise BlobNotFound(f"'{sha256}' is not a blob id")
    return f"{sha256[:2]}/{sha256[2:]}"


class RecentBlobs:
    """The most recently stored blobs, up to `limit` bytes, kept in memory: a flow's next
    node, a response or a download usually reads what was just written."""

    def __init__(self, limit: int):
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._limit = limit

    def __contains__(self, sha256: str) -> bool:
        return sha256 in self._blobs

    def get(self, sha256: str) -> bytes | None:
        data = self._blobs.get(sha256)
        if data is not None:
            self._blobs.move_to_end(sha256)
        return data

    def remember(self, sha256: str, data: bytes) -> None:
        if len(data) > self._limit or sha256 in self._blobs:
            return
        self._blobs[sha256] = data
        self._bytes += len(data)
        while self._bytes > self._limit:
            _, dropped = self._blobs.popitem(last=False)
            self._bytes -= len(dropped)


class LocalBlobStore:
    """Blobs as files under `root/ab/cdef...`, written atomically; equal bytes stored once.

    `put` returns once the bytes are hashed and held in memory; their file is written by
    the `Writer` thread, which the journal shares, so any record naming the blob commits
    after the file exists (creating a file costs from tens of microseconds to a
    millisecond, and no run need wait for it). `flush` waits for the files; `path`
    readers call it first. The most recently stored blobs (up to `recent_bytes`) are also
    kept in memory: a flow's next node, a response or a download usually reads what was
    just written."""

    def __init__(
        self, root: Path, recent_bytes: int = 64 * 1024 * 1024, writer: Writer | None = None
    ):
        self.root = root
        self._writer = writer or Writer()
        self._owns_writer = writer is None
        self._recent = RecentBlobs(recent_bytes)
        self._unwritten: dict[str, tuple[Future[None], bytes]] = {}  # in the writer's order
        self._failed: dict[str, bytes] = {}  # files the disk refused: served from memory
        self._files = _Files()

    def path(self, sha256: str) -> Path:
        return self.root / blob_name(sha256)

    async def put(self, data: bytes) -> str:
        sha256 = await hashed(data)
        self._keep(sha256, data)
        return sha256

    async def put_made(self, make: Callable[[], bytes]) -> tuple[str, bytes]:
        data, sha256 = await made_and_hashed(make)
        self._keep(sha256, data)
        return sha256, data

    async def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        recent = self._recent.get(sha256)
        if recent is not None:
            return recent
        held = self._held(sha256)
        if held is not None:
            return held
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(f"blob {sha256[:12]}… is not in the store") from None

    async def exists(self, sha256: str) -> bool:
        held = sha256 in self._recent or self._held(sha256) is not None
        return held or self.path(sha256).exists()

    async def location(self, sha256: str) -> str:
        """The blob's file (waiting until the files are written)."""
        path = self.path(sha256)
        await self.flush()
        return str(path.resolve())

    async def check(self) -> None:
        def writable() -> bool:
            self.root.mkdir(parents=True, exist_ok=True)
            return os.access(self.root, os.R_OK | os.W_OK | os.X_OK)

        try:
            ok = await asyncio.to_thread(writable)
        except OSError as exc:
            raise BlobStoreUnavailable(f"the blob directory {self.root}: {exc}") from exc
        if not ok:
            raise BlobStoreUnavailable(f"the blob directory {self.root} is not writable")

    def _held(self, sha256: str) -> bytes | None:
        """Bytes whose file is not written yet, or that the disk refused."""
        unwritten = self._unwritten.get(sha256)
        return unwritten[1] if unwritten is not None else self._failed.get(sha256)

    async def flush(self) -> None:
        """Wait until every blob stored so far is in its file."""
        if self._unwritten:
            last, _ = next(reversed(self._unwritten.values()))
            await asyncio.wait([asyncio.wrap_future(last)])  # the writer keeps order
        self._prune()
        if self._failed:
            names = ", ".join(f"{sha[:12]}…" for sha in self._failed)
            raise BlobWriteError(
                f"could not write the files of blobs {names} under {self.root} (see the log); "
                "check that the disk has room and the data dir is writable"
            )

    async def close(self) -> None:
        try:
            await self.flush()
        finally:
            if self._owns_writer:
                self._writer.close()

    def _keep(self, sha256: str, data: bytes) -> None:
        """Hold `data` in memory and hand its file to the writer, without waiting."""
        self._recent.remember(sha256, data)
        self._prune()
        if sha256 not in self._unwritten:
            self._failed.pop(sha256, None)  # stored again: this write decides
            path = self.path(sha256)
            write = self._writer.submit(lambda: self._files.write(path, data))
            self._unwritten[sha256] = (write, data)

    def _prune(self) -> None:
        while self._unwritten:
            sha256, (written, data) = next(iter(self._unwritten.items()))
            if not written.done():
                return
            del self._unwritten[sha256]
            if written.exception() is not None:
                self._failed[sha256] = data


# hashing (or reading the header of) this much costs less than a thread hop
_HASH_ON_LOOP = 64 * 1024


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def hashed(data: bytes) -> str:
    """The SHA-256 of `data`: on the event loop when small, else in a thread."""
    return _sha256(data) if len(data) <= _HASH_ON_LOOP else await asyncio.to_thread(_sha256, data)


async def made_and_hashed(make: Callable[[], bytes]) -> tuple[bytes, str]:
    """Run `make` in the bounded image-work pool and hash what it returns, in one hop."""
    return await work.run(partial(_made_and_hashed, make))


def _made_and_hashed(make: Callable[[], bytes]) -> tuple[bytes, str]:
    data = make()
    return data, _sha256(data)


_TEMP_NAMES = itertools.count()  # unique within the process; the pid makes them unique


class _Files:
    """Writes blob files in the writer thread with as few system calls as it can: each
    one hands the interpreter lock to the event loop and back, and on a loaded machine
    each hand-over costs more than the call."""

    def __init__(self) -> None:
        self._folders: set[Path] = set()

    def write(self, path: Path, data: bytes) -> None:
        try:
            self._write(path, data)
        except OSError as exc:
            log.error("could not write the blob file %s: %s", path, exc)
            raise

    def _write(self, path: Path, data: bytes) -> None:
        folder = path.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        # equal bytes have one name: writing a file that exists again changes nothing
        tmp = folder / f".tmp-{os.getpid()}-{next(_TEMP_NAMES)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        try:
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


async def put_image(store: BlobStore, data: bytes) -> ImageRef:
    """Check that `data` is an image Plait accepts, store it, and describe it."""
    if len(data) > _HASH_ON_LOOP:
        return await make_image(store, lambda: data)
    info = images.inspect(data)  # the header only
    return _described(await store.put(data), info, data)


async def make_image(store: BlobStore, make: Callable[[], bytes]) -> ImageRef:
    """`put_image` for the bytes CPU-bound work makes (a sanitize, a resize): the work, the
    check and the hash share one thread hop, off the event loop."""
    infos: list[images.ImageInfo] = []

    def made() -> bytes:
        data = make()
        infos.append(images.inspect(data))
        return data

    sha256, data = await store.put_made(made)
    return _described(sha256, infos[0], data)


def _described(sha256: str, info: images.ImageInfo, data: bytes) -> ImageRef:
    return ImageRef(sha256, info.media_type, info.width, info.height, len(data))
