"""Signed, expiring links to stored images (public: the signature is the permission)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Response

from plait.api.auth import State
from plait.api.schemas import IMAGE
from plait.media import images
from plait.media.blobs import BlobNotFound

router = APIRouter(tags=["files"])


@router.get("/files/{blob_id}", **IMAGE)
async def read_file(
    blob_id: str,
    state: State,
    exp: int = Query(ge=0, le=2**40),
    sig: str = Query(max_length=128),
) -> Response:
    if not state.links.valid(blob_id, exp, sig):
        raise HTTPException(403, "this link is invalid or has expired; ask for a new one")
    try:
        data = await state.runtime.blobs.get(blob_id)
    except BlobNotFound:  # also any id that is not a SHA-256 in hex: the store takes no other
        raise HTTPException(404, "no such file") from None
    media_type = images.sniff(data)
    if media_type is None:  # only images are stored; never serve anything a browser might run
        raise HTTPException(404, "no such file")
    return Response(
        data,
        media_type=media_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "private, max-age=3600, immutable",
        },
    )
