"""Reading request bodies with size caps: JSON objects, multipart forms, uploaded images."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message, Receive

from plait import jsonlimits
from plait.api.errors import NOT_UNICODE
from plait.errors import InputError, MediaError, Problem
from plait.media import images
from plait.media.blobs import make_image
from plait.media.image_ref import ImageRef
from plait.net import GuardedClient, NetError, fetch_image
from plait.runtime import Runtime


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


async def image_value(field: str, value: Any, runtime: Runtime, cap: int) -> ImageRef:
    """An image field's value (a file part, an http(s) URL fetched through the guarded
    client, a data: URL or base64) checked, cleaned of metadata and stored."""
    if isinstance(value, UploadFile):
        data = await value.read(cap + 1)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        data = await _fetch(field, value, runtime.http, cap)
    elif isinstance(value, str):
        data = _decode_base64(field, value)
    else:
        raise _field_error(field, "expects an image: a file part, a data: URL or base64 text")
    if len(data) > cap:
        raise _field_error(field, f"the image is larger than {cap} bytes")
    try:
        return await make_image(runtime.blobs, lambda: images.sanitize(data))
    except MediaError as exc:
        raise _field_error(field, exc.message) from None


async def _fetch(field: str, url: str, client: GuardedClient, cap: int) -> bytes:
    try:
        return (await fetch_image(client, url, max_bytes=cap)).data
    except NetError as exc:
        raise _field_error(field, exc.message) from None


def _decode_base64(field: str, text: str) -> bytes:
    payload = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _field_error(
            field, "expects an image as a data: URL or base64 text (or a multipart file part)"
        ) from None


def refuse_misplaced_files(raw: dict[str, Any], image_fields: set[str]) -> None:
    """A multipart file part may only fill an image field (422 naming each other one)."""
    misplaced = [k for k, v in raw.items() if isinstance(v, UploadFile) and k not in image_fields]
    if misplaced:
        message = "a file was sent, but this is not an image field of the trigger"
        raise InputError(
            "\n".join(f"input '{name}': {message}" for name in misplaced),
            problems=[Problem(message, field=name) for name in misplaced],
        )


def _field_error(field: str, message: str) -> InputError:
    return InputError(f"input '{field}': {message}", problems=[Problem(message, field=field)])


def _too_large(cap: int) -> HTTPException:
    return HTTPException(413, f"the request body is larger than {cap} bytes")
