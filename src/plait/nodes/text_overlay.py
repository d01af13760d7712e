"""Text Overlay: the design step that layers copy (headlines, prices, badges) on an image."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from plait.flows.ports import Port, PortType
from plait.flows.template import Template
from plait.media import images
from plait.media.overlay import TextLayer, draw_layers
from plait.nodes.base import NodeContext, NodeType
from plait.nodes.encoding import encode_image


class OverlayLayer(TextLayer):
    text: Template = Field(description="The copy; may hold {{ node.port }} references")


class TextOverlayConfig(BaseModel):
    layers: list[OverlayLayer] = Field(
        min_length=1, description="Drawn in order, first at the back"
    )
    format: images.OutputFormat = Field(default="png", description="Output format")
    quality: int = Field(default=90, ge=1, le=100, description="JPEG / WebP quality")


class TextOverlay(NodeType[TextOverlayConfig]):
    type = "text_overlay"
    title = "Text Overlay"
    category = "Images"
    description = "Draw text layers (wrapped in a box, shrink-to-fit, stroke, plate) on an image."
    config_model = TextOverlayConfig

    def inputs(self, config: TextOverlayConfig) -> list[Port]:
        return [Port("image", PortType.IMAGE)]

    def outputs(self, config: TextOverlayConfig) -> list[Port]:
        return [Port("image", PortType.IMAGE)]

    async def run(
        self, ctx: NodeContext, config: TextOverlayConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        def work(data: bytes) -> bytes:
            img = draw_layers(images.decode(data), config.layers)
            return images.encode(img, config.format, config.quality)

        return {"image": await encode_image(ctx, inputs["image"], work)}
