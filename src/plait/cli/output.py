"""Turning a run's result into files and JSON on the command line."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from plait.engine.values import images_in, map_images
from plait.media.blobs import BlobStore
from plait.media.image_ref import ImageRef

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


async def export_images(value: Any, out_dir: Path, blobs: BlobStore) -> Any:
    """Write every image in `value` to `out_dir`, named after where it sits; paths replace them."""
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    planned: dict[str, tuple[Path, ImageRef]] = {}
    named = _name_images(value, (), planned, out_dir)
    for path, ref in planned.values():
        await asyncio.to_thread(path.write_bytes, await blobs.get(ref.sha256))
    return named


async def blob_paths(value: Any, blobs: BlobStore) -> Any:
    """Images shown as where the blob store keeps them (a file's path, an `s3://` URI)."""
    places = {ref.sha256: "" for ref in images_in(value)}
    for sha256 in places:
        places[sha256] = await blobs.location(sha256)
    return map_images(value, lambda ref: places[ref.sha256])


def _name_images(
    value: Any, where: tuple[str, ...], planned: dict[str, tuple[Path, ImageRef]], out_dir: Path
) -> Any:
    if isinstance(value, ImageRef):
        stem = _UNSAFE.sub("_", "-".join(where)) or "image"
        path = _unique(out_dir / f"{stem}.{value.extension}", planned)
        planned[str(path)] = (path, value)
        return str(path)
    if isinstance(value, dict):
        return {k: _name_images(v, (*where, str(k)), planned, out_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _name_images(v, (*where, str(i + 1)), planned, out_dir) for i, v in enumerate(value)
        ]
    return value


def _unique(path: Path, planned: dict[str, tuple[Path, ImageRef]]) -> Path:
    candidate, n = path, 2
    while str(candidate) in planned:
        candidate = path.with_stem(f"{path.stem}-{n}")
        n += 1
    return candidate


def to_json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
