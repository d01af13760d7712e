"""Image URL: an image fetched from an http(s) address through the guarded client."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from plait.errors import MediaError, NodeInputError
from plait.flows.ports import Port, PortType
from plait.flows.template import Template
from plait.net.client import DEFAULT_MAX_BYTES
from plait.net.errors import NetError, UrlRefused
from plait.net.fetch import fetch_image
from plait.net.url import parse_url
from plait.nodes.base import NodeContext, NodeType


class ImageUrlConfig(BaseModel):
    url: Template = Field(
        description=(
            "http(s) address of a PNG, JPEG, WebP, HEIC or HEIF image; may use {{ node.port }}"
        )
    )
    max_bytes: int = Field(
        default=DEFAULT_MAX_BYTES, ge=1, le=100 * 1024 * 1024, description="Largest image to accept"
    )

    @field_validator("url")
    @classmethod
    def _checked_when_fixed(cls, url: Template) -> Template:
        """A URL without references is checked now (scheme, host spelling, credentials)."""
        if "{{" not in url and url.strip():
            try:
                parse_url(url.strip())
            except UrlRefused as exc:
                raise ValueError(exc.message) from None
        return url


class ImageUrl(NodeType[ImageUrlConfig]):
    type = "image_url"
    title = "Image URL"
    category = "Inputs"
    description = "An image from an http(s) address (private addresses are refused)."
    config_model = ImageUrlConfig
    reaches_out = True
    # fetched fresh each run; what follows is still cached by the image's content hash
    cacheable = False

    def outputs(self, config: ImageUrlConfig) -> list[Port]:
        return [Port("image", PortType.IMAGE)]

    async def run(
        self, ctx: NodeContext, config: ImageUrlConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        url = str(config.url).strip()
        if not url:
            raise NodeInputError("the URL is empty; set 'url' to the image's http(s) address")
        try:  # the URL is this node's input, often a caller's: its failures are theirs to fix
            fetched = await fetch_image(ctx.http_client(), url, max_bytes=config.max_bytes)
        except NetError as exc:
            raise NodeInputError(f"could not fetch the image URL: {exc.message}") from None
        try:
            return {"image": await ctx.store_image(fetched.data)}
        except MediaError as exc:
            origin = parse_url(fetched.url).origin
            raise NodeInputError(f"{origin} did not send a usable image: {exc.message}") from None
