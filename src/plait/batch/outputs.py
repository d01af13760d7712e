"""A batch's files: each succeeded row's images in the output folder, and `manifest.csv`."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
from pathlib import Path
from typing import Any

from plait.media.blobs import BlobStore
from plait.media.image_ref import ImageRef
from plait.store.tables import BatchRow

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("row", "inputs", "status", "error", "cost_usd", "outputs")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


async def export_row(number: int, result: Any, out_dir: Path, blobs: BlobStore) -> list[str]:
    """Write the images of one row's result as `row-00042-<where>.<ext>`; their file names."""
    found: list[tuple[str, ImageRef]] = []
    _collect(result, (f"row-{number:05d}",), found)
    names: list[str] = []
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    for stem, ref in found:
        name = f"{_UNSAFE.sub('_', stem)}.{ref.extension}"
        n = 2
        while name in names:
            name = f"{_UNSAFE.sub('_', stem)}-{n}.{ref.extension}"
            n += 1
        await asyncio.to_thread(_write_atomically, out_dir / name, await blobs.get(ref.sha256))
        names.append(name)
    return names


def _collect(value: Any, where: tuple[str, ...], found: list[tuple[str, ImageRef]]) -> None:
    if isinstance(value, ImageRef):
        found.append(("-".join(where), value))
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(item, (*where, str(key)), found)
    elif isinstance(value, list):
        for i, item in enumerate(value, 1):
            _collect(item, (*where, str(i)), found)


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def write_manifest(rows: list[BatchRow], out_dir: Path) -> Path:
    """One line per row: number, inputs as given (JSON), status, error, cost, output files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MANIFEST
    temporary = path.with_name(f".{MANIFEST}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(MANIFEST_COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    row.number,
                    json.dumps(row.given, ensure_ascii=False, sort_keys=True),
                    row.status,
                    row.error or "",
                    f"{row.cost_usd:.6f}",
                    " ".join(row.outputs or []),
                ]
            )
    os.replace(temporary, path)
    return path
