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
    files = row_files(number, result)
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    for name, ref in files:
        await asyncio.to_thread(_write_atomically, out_dir / name, await blobs.get(ref.sha256))
    return [name for name, _ in files]


def row_files(number: int, result: Any) -> list[tuple[str, ImageRef]]:
    """The images of one row's result and their file names, `row-00042-<where>.<ext>`."""
    found: list[tuple[str, ImageRef]] = []
    _collect(result, (f"row-{number:05d}",), found)
    files: list[tuple[str, ImageRef]] = []
    names: set[str] = set()
    for stem, ref in found:
        name = f"{_UNSAFE.sub('_', stem)}.{ref.extension}"
        n = 2
        while name in names:
            name = f"{_UNSAFE.sub('_', stem)}-{n}.{ref.extension}"
            n += 1
        names.add(name)
        files.append((name, ref))
    return files


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
            writer.writerow(manifest_line(row, row.outputs or []))
    os.replace(temporary, path)
    return path


def manifest_line(row: BatchRow, outputs: list[str]) -> list[Any]:
    """One row of `manifest.csv` (see MANIFEST_COLUMNS)."""
    return [
        row.number,
        json.dumps(row.given, ensure_ascii=False, sort_keys=True),
        row.status,
        row.error or "",
        f"{row.cost_usd:.6f}",
        " ".join(outputs),
    ]
