"""The results ZIP is streamed: each entry is handed on as soon as it is written."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import AsyncIterator

from plait.batch.archive import Entry, zip_stream

SIZE = 200_000


async def _entries(count: int, written: list[str]) -> AsyncIterator[Entry]:
    for i in range(count):
        written.append(f"image-{i}.png")
        yield Entry(f"image-{i}.png", os.urandom(SIZE))
    written.append("manifest.csv")
    yield Entry("manifest.csv", b"row,status\n" * 1000, compress=True)


async def test_entries_are_handed_on_one_at_a_time_and_make_a_valid_zip() -> None:
    written: list[str] = []
    chunks: list[bytes] = []
    async for chunk in zip_stream(_entries(20, written)):
        chunks.append(chunk)
        # nothing is held back: when a chunk arrives, it covers every entry produced so far
        assert len(chunks) == len(written) or (len(chunks) == len(written) + 1)
        assert len(chunk) < SIZE + 1024  # at most one entry (and its headers)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert archive.namelist() == written
    assert archive.getinfo("image-0.png").compress_type == zipfile.ZIP_STORED
    assert archive.getinfo("manifest.csv").compress_type == zipfile.ZIP_DEFLATED
    assert archive.read("manifest.csv") == b"row,status\n" * 1000
