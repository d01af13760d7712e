"""Image uploads from the editor: capped, checked by content, re-encoded without metadata."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.datastructures import UploadFile

from plait.api import schemas
from plait.api.auth import CurrentCaller, State
from plait.api.bodies import read_fields
from plait.api.schemas import answers
from plait.errors import MediaError
from plait.media import images
from plait.media.blobs import make_image

router = APIRouter(prefix="/api", tags=["uploads"])


@router.post("/uploads", status_code=201, **answers(schemas.UploadAnswer))
async def upload(request: Request, caller: CurrentCaller, state: State) -> dict[str, Any]:
    """Multipart with one part named `file`: a PNG, JPEG, WebP, HEIC or HEIF image."""
    cap = state.settings.max_upload_bytes
    fields = await read_fields(request, cap)
    part = fields.get("file")
    if not isinstance(part, UploadFile):
        raise HTTPException(422, "send the image as a multipart part named 'file'")
    data = await part.read(cap + 1)
    if len(data) > cap:
        raise HTTPException(413, f"the image is larger than {cap} bytes")
    try:
        ref = await make_image(state.runtime.blobs, lambda: images.sanitize(data))
    except MediaError as exc:  # 415: not an image type we take; 422: damaged, or too many pixels
        status = 415 if images.sniff(data) is None else 422
        raise HTTPException(status, f"'{part.filename}': {exc.message}") from None
    presenter = state.presenter
    return {"image": ref.to_json(), "url": presenter.url(ref)}
