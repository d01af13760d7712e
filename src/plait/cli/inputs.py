"""`-i NAME=VALUE` and `-i NAME=@file` values for a run's trigger fields."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from plait.engine.executor import entry_trigger
from plait.errors import InputError, PlaitError
from plait.flows.validate import CompiledFlow
from plait.media.blobs import BlobStore, put_image
from plait.media.files import read_image_file
from plait.nodes.http_trigger import coerce_inputs, trigger_config


async def run_inputs(
    pairs: list[str], compiled: CompiledFlow, trigger_id: str | None, blobs: BlobStore
) -> dict[str, Any]:
    """Parse the pairs against the entry trigger's declared fields (InputError if any is bad)."""
    config = trigger_config(compiled, entry_trigger(compiled, trigger_id))
    if config is None:
        if pairs:
            raise InputError("this flow has no HTTP Trigger node to take -i values")
        return {}
    kinds = {f.name: f.type for f in config.fields}
    raw = {}
    for pair in pairs:
        name, value = _split(pair)
        raw[name] = await _load(name, value, kinds.get(name), blobs)
    return coerce_inputs(config, raw)


def _split(pair: str) -> tuple[str, str]:
    name, sep, value = pair.partition("=")
    if not sep or not name:
        raise InputError(f"-i expects NAME=VALUE or NAME=@file, got '{pair}'")
    return name.strip(), value


async def _load(name: str, value: str, kind: str | None, blobs: BlobStore) -> Any:
    """`@path` reads a file: an image for image fields, else its text."""
    if not value.startswith("@") or kind is None:
        return value
    path = value[1:]
    try:
        if kind == "image":
            data = await asyncio.to_thread(read_image_file, path)
            return await put_image(blobs, data)
        return await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
    except PlaitError as exc:
        raise InputError(f"input '{name}': {exc.message}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"input '{name}': cannot read {path} ({exc})") from None
