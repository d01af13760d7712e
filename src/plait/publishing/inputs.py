"""A call's inputs to a published flow's HTTP Trigger: each image field read (a file part,
an http(s) URL fetched through the guarded client, a data: URL or base64), checked, cleaned
of metadata and stored, then every field coerced to the trigger's types (`InputError`
naming each field that does not fit)."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Protocol, runtime_checkable

from plait.errors import InputError, MediaError, Problem
from plait.flows.validate import CompiledFlow
from plait.media import images
from plait.media.blobs import make_image
from plait.media.image_ref import ImageRef
from plait.net import GuardedClient, NetError, fetch_image
from plait.nodes.http_trigger import HttpTriggerConfig, coerce_inputs
from plait.runtime import Runtime


@runtime_checkable
class Upload(Protocol):
    """A file part of a multipart body (Starlette's `UploadFile`)."""

    async def read(self, size: int = -1) -> bytes: ...


async def trigger_inputs(
    runtime: Runtime, raw: dict[str, Any], flow: CompiledFlow, node_id: str
) -> dict[str, Any]:
    """The trigger `node_id`'s inputs from the fields of a call."""
    config = flow.nodes[node_id].config
    assert isinstance(config, HttpTriggerConfig)
    refuse_misplaced_files(raw, {f.name for f in config.fields if f.type == "image"})
    cap = runtime.settings.max_upload_bytes
    for field in config.fields:
        if field.type == "image" and raw.get(field.name) is not None:
            raw[field.name] = await image_value(field.name, raw[field.name], runtime, cap)
    return coerce_inputs(config, raw)


async def image_value(field: str, value: Any, runtime: Runtime, cap: int) -> ImageRef:
    """An image field's value (a file part, an http(s) URL fetched through the guarded
    client, a data: URL or base64) checked, cleaned of metadata and stored."""
    if isinstance(value, Upload):
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


def refuse_misplaced_files(raw: dict[str, Any], image_fields: set[str]) -> None:
    """A multipart file part may only fill an image field (`InputError` naming each other)."""
    misplaced = [k for k, v in raw.items() if _is_upload(v) and k not in image_fields]
    if misplaced:
        message = "a file was sent, but this is not an image field of the trigger"
        raise InputError(
            "\n".join(f"input '{name}': {message}" for name in misplaced),
            problems=[Problem(message, field=name) for name in misplaced],
        )


def _is_upload(value: Any) -> bool:
    """A JSON value is never a file part: checked first, as the protocol check is slow."""
    return not isinstance(value, _JSON_VALUES) and isinstance(value, Upload)


_JSON_VALUES = (str, int, float, list, dict, type(None))


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


def _field_error(field: str, message: str) -> InputError:
    return InputError(f"input '{field}': {message}", problems=[Problem(message, field=field)])
