"""Fetching an image by URL through the guarded client (for nodes and trigger fields)."""

from __future__ import annotations

from dataclasses import dataclass

from plait.net.client import GuardedClient

IMAGE_ACCEPT = "image/png, image/jpeg, image/webp;q=0.9, */*;q=0.1"


@dataclass(frozen=True, slots=True)
class FetchedImage:
    data: bytes
    content_type: str  # as the server announced it; check the bytes, not this
    url: str  # the final URL, after redirects


async def fetch_image(
    client: GuardedClient, url: str, *, max_bytes: int | None = None
) -> FetchedImage:
    """GET `url` expecting an image; raises NetError (HttpStatusError unless 2xx).

    The bytes are not checked here: store them with `plait.media.blobs.put_image`.
    """
    response = await client.get(url, headers={"Accept": IMAGE_ACCEPT}, max_bytes=max_bytes)
    response.raise_for_status()
    return FetchedImage(response.content, response.content_type, response.url)


__all__ = ["IMAGE_ACCEPT", "FetchedImage", "fetch_image"]
