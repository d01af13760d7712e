"""Respond to Webhook: builds what a caller gets back — a JSON body, or one image as bytes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from plait.flows.model import NAME_PATTERN, unique_names
from plait.flows.ports import Port, PortType
from plait.flows.template import Template
from plait.nodes.base import InstantNodeType, NodeContext


class ResponseField(BaseModel):
    name: str = Field(pattern=rf"^{NAME_PATTERN}$", description="Key in the JSON body")
    value: Template | None = Field(
        default=None, description="Used when the port is not connected; may hold references"
    )


class RespondConfig(BaseModel):
    mode: Literal["json", "image"] = Field(
        default="json", description="json: a body mapped from inputs; image: one image's bytes"
    )
    fields: list[ResponseField] = Field(
        default_factory=lambda: [ResponseField(name="image")],
        description="The JSON body's keys, each an input port (mode json)",
    )
    status_code: int = Field(default=200, ge=200, le=299, description="HTTP status on success")

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[ResponseField]) -> list[ResponseField]:
        return unique_names(fields)


class Respond(InstantNodeType[RespondConfig]):
    type = "respond"
    title = "Respond to Webhook"
    category = "Outputs"
    description = "The response: JSON whose images become links, or a single image's bytes."
    config_model = RespondConfig

    def inputs(self, config: RespondConfig) -> list[Port]:
        if config.mode == "image":
            return [Port("image", PortType.IMAGE)]
        return [Port(f.name, PortType.ANY, config_fallback=True) for f in config.fields]

    def outputs(self, config: RespondConfig) -> list[Port]:
        return [Port("response", PortType.JSON)]

    def config_value(self, config: RespondConfig, port: str) -> Any:
        return next((f.value for f in config.fields if f.name == port), None)

    def run_now(
        self, ctx: NodeContext, config: RespondConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        response: dict[str, Any] = {"mode": config.mode, "status": config.status_code}
        if config.mode == "image":
            response["image"] = inputs["image"]
        else:
            response["body"] = {f.name: _plain(inputs.get(f.name)) for f in config.fields}
        return {"response": response}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Template) else value
