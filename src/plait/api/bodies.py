"""Reading request bodies with size caps: JSON objects and multipart forms."""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.types import Message, Receive

from plait import jsonlimits
from plait.api.errors import NOT_UNICODE


async def read_capped(request: Request, cap: int) -> bytes:
    """The raw body, refusing (413) as soon as it passes `cap` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise _too_large(cap)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _too_large(cap)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_fields(request: Request, cap: int) -> dict[str, Any]:
    """A JSON object, or a multipart / urlencoded form (file parts as UploadFile)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return dict((await read_form(request, cap)).multi_items())
    body = await read_capped(request, cap)
    if not body.strip():
        return {}
    try:
        data = jsonlimits.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HTTPException(422, "the body must be a JSON object of the trigger's fields")
    try:  # refused before a run starts, not when its answer cannot be written
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise HTTPException(400, NOT_UNICODE) from None
    return data


async def read_form(request: Request, cap: int, max_files: int = 32) -> FormData:
    """A multipart / urlencoded form of at most `cap` bytes (file parts as UploadFile)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise _too_large(cap)
    # Starlette caps form fields but spools file parts to disk whatever their size:
    # count the bytes as they arrive (a chunked body declares no length).
    capped = Request(request.scope, _capped_receive(request.receive, cap))
    return await capped.form(max_files=max_files, max_fields=256, max_part_size=cap)


def _capped_receive(receive: Receive, cap: int) -> Receive:
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            raise _too_large(cap)
        return message

    return capped


def _too_large(cap: int) -> HTTPException:
    return HTTPException(413, f"the request body is larger than {cap} bytes")
