"""Content-addressed blob storage: bytes in, SHA-256 out."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from plait.errors import PlaitError
from plait.media import images
from plait.media.image_ref import ImageRef

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobNotFound(PlaitError):
    pass


class BlobStore(Protocol):
    async def put(self, data: bytes) -> str: ...

    async def put_made(self, make: Callable[[], bytes]) -> tuple[str, bytes]:
        """Run `make` (CPU-bound) off the event loop and store what it returns, in the
        same thread hop; returns the hash and the bytes."""
        ...

    async def get(self, sha256: str) -> bytes: ...

    async def exists(self, sha256: str) -> bool: ...


class LocalBlobStore:
    """Blobs as files under `root/ab/cdef...`, written atomically; equal bytes stored once.

    The most recently stored blobs (up to `recent_bytes`) are also kept in memory: a
    flow's next node, a response or a download usually reads what was just written."""

    def __init__(self, root: Path, recent_bytes: int = 64 * 1024 * 1024):
        self.root = root
        self._recent: OrderedDict[str, bytes] = OrderedDict()
        self._recent_bytes = 0
        self._recent_limit = recent_bytes

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):  # the name is the only path input: keep it a hash
            raise BlobNotFound(f"'{sha256}' is not a blob id")
        return self.root / sha256[:2] / sha256[2:]

    async def put(self, data: bytes) -> str:
        sha256, _ = await self.put_made(lambda: data)
        return sha256

    async def put_made(self, make: Callable[[], bytes]) -> tuple[str, bytes]:
        data, sha256 = await asyncio.to_thread(self._make_and_write, make)
        self._remember(sha256, data)
        return sha256, data

    async def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        recent = self._recent.get(sha256)
        if recent is not None:
            self._recent.move_to_end(sha256)
            return recent
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(f"blob {sha256[:12]}… is not in the store") from None

    async def exists(self, sha256: str) -> bool:
        return sha256 in self._recent or self.path(sha256).exists()

    def _remember(self, sha256: str, data: bytes) -> None:
        if len(data) > self._recent_limit or sha256 in self._recent:
            return
        self._recent[sha256] = data
        self._recent_bytes += len(data)
        while self._recent_bytes > self._recent_limit:
            _, dropped = self._recent.popitem(last=False)
            self._recent_bytes -= len(dropped)

    def _make_and_write(self, make: Callable[[], bytes]) -> tuple[bytes, str]:
        data = make()
        sha256 = hashlib.sha256(data).hexdigest()
        self._write(self.path(sha256), data)
        return data, sha256

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


async def put_image(store: BlobStore, data: bytes) -> ImageRef:
    """Check that `data` is an image Plait accepts, store it, and describe it."""
    return await make_image(store, lambda: data)


async def make_image(store: BlobStore, make: Callable[[], bytes]) -> ImageRef:
    """`put_image` for the bytes CPU-bound work makes (a sanitize, a resize): the work, the
    check and the write share one thread hop, off the event loop."""
    infos: list[images.ImageInfo] = []

    def made() -> bytes:
        data = make()
        infos.append(images.inspect(data))
        return data

    sha256, data = await store.put_made(made)
    info = infos[0]
    return ImageRef(sha256, info.media_type, info.width, info.height, len(data))
