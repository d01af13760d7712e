"""A batch's results as a ZIP, streamed: each succeeded row's images and `manifest.csv`.

The archive is written into a non-seekable sink (zipfile then uses data descriptors) and
handed on a file at a time, so a batch of any size needs memory for one image only.
Images are stored uncompressed: PNG, JPEG and WebP are compressed already.
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from plait.batch.outputs import MANIFEST, MANIFEST_COLUMNS, manifest_line, row_files
from plait.engine.values import from_json
from plait.media.blobs import BlobStore
from plait.store import batches as store
from plait.store.db import Database


class _Sink:
    """Where zipfile writes; `take` hands on what it wrote since the last call."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    data: bytes
    compress: bool = False  # images are compressed already; text is worth deflating


async def zip_stream(entries: AsyncIterator[Entry]) -> AsyncIterator[bytes]:
    """A ZIP of `entries`, handed on an entry at a time (then the central directory)."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED)
    async for entry in entries:
        kind = zipfile.ZIP_DEFLATED if entry.compress else zipfile.ZIP_STORED
        await asyncio.to_thread(archive.writestr, entry.name, entry.data, kind)
        yield sink.take()
    archive.close()
    yield sink.take()


def batch_zip(db: Database, blobs: BlobStore, batch_id: str) -> AsyncIterator[bytes]:
    """The ZIP's bytes: images as `row-00042-<output>.<ext>`, then `manifest.csv` with one
    line per row (as `plait batch --out` writes them)."""
    return zip_stream(_batch_entries(db, blobs, batch_id))


async def _batch_entries(db: Database, blobs: BlobStore, batch_id: str) -> AsyncIterator[Entry]:
    async with db.new_session() as session:
        rows = await store.rows_of(session, batch_id)
        done = [r.run_id for r in rows if r.status == store.SUCCEEDED and r.run_id]
        results = await store.run_results(session, done)
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(MANIFEST_COLUMNS)
    for row in rows:
        result = results.get(row.run_id or "") if row.status == store.SUCCEEDED else None
        files = row_files(row.number, from_json(result)) if result is not None else []
        for name, ref in files:
            yield Entry(name, await blobs.get(ref.sha256))
        writer.writerow(manifest_line(row, [name for name, _ in files]))
    yield Entry(MANIFEST, manifest.getvalue().encode("utf-8"), compress=True)
