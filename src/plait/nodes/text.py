"""Text: a template that produces text from upstream values."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from plait.flows.ports import Port, PortType
from plait.flows.template import Template
from plait.nodes.base import InstantNodeType, NodeContext


class TextConfig(BaseModel):
    template: Template = Field(
        default=Template(""), description="Text with {{ node.port }} references"
    )


class Text(InstantNodeType[TextConfig]):
    type = "text"
    title = "Text"
    category = "Inputs"
    description = "Text from a template, e.g. 'A photo of {{ trigger.product }} on white'."
    config_model = TextConfig

    def outputs(self, config: TextConfig) -> list[Port]:
        return [Port("text", PortType.TEXT)]

    def run_now(
        self, ctx: NodeContext, config: TextConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        return {"text": str(config.template)}
