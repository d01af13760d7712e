"""Image Resize: scale to a width and/or height with a fit mode, then encode."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from plait.flows.ports import Port, PortType
from plait.media import images
from plait.media.resize import Fit, resize
from plait.nodes.base import NodeContext, NodeType
from plait.nodes.encoding import encode_image


class ImageResizeConfig(BaseModel):
    width: int | None = Field(default=None, ge=1, le=8192, description="Target width in pixels")
    height: int | None = Field(default=None, ge=1, le=8192, description="Target height in pixels")
    fit: Fit = Field(
        default="contain",
        description="contain: fit inside; cover: fill and crop; fill: stretch; pad: fit and pad",
    )
    pad_color: str = Field(default="#ffffff", description="Background for fit 'pad'")
    format: images.OutputFormat = Field(default="png", description="Output format")
    quality: int = Field(default=90, ge=1, le=100, description="JPEG / WebP quality")

    @model_validator(mode="after")
    def _a_side(self) -> ImageResizeConfig:
        if self.width is None and self.height is None:
            raise ValueError("set a width, a height, or both")
        return self


class ImageResize(NodeType[ImageResizeConfig]):
    type = "image_resize"
    title = "Image Resize"
    category = "Images"
    description = (
        "Resize to a width and/or height (contain, cover, fill or pad) as PNG, JPEG or WebP."
    )
    config_model = ImageResizeConfig

    def inputs(self, config: ImageResizeConfig) -> list[Port]:
        return [Port("image", PortType.IMAGE)]

    def outputs(self, config: ImageResizeConfig) -> list[Port]:
        return [Port("image", PortType.IMAGE)]

    async def run(
        self, ctx: NodeContext, config: ImageResizeConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        def work(data: bytes) -> bytes:
            largest_side = max(config.width or 0, config.height or 0) or None
            img = resize(
                images.decode(data, at_least=largest_side),  # a JPEG decoded no bigger than needed
                config.width,
                config.height,
                config.fit,
                config.pad_color,
            )
            return images.encode(img, config.format, config.quality)

        return {"image": await encode_image(ctx, inputs["image"], work)}
