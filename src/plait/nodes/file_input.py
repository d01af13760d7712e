"""File Input: an image file from disk (a path, relative to the flow file) or an uploaded blob."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field, model_validator

from plait.flows.ports import Port, PortType
from plait.media.files import FlowFiles
from plait.nodes.base import NodeContext, NodeType, file_as_blob


class FileInputConfig(BaseModel):
    path: str | None = Field(
        default=None, description="Image file; relative paths start at the flow file's folder"
    )
    blob: str | None = Field(default=None, description="An uploaded image's blob id")

    @model_validator(mode="after")
    def _one_source(self) -> FileInputConfig:
        if not self.path and not self.blob:
            raise ValueError("set 'path' to an image file (or upload one)")
        return self


class FileInput(NodeType[FileInputConfig]):
    type = "file_input"
    title = "File Input"
    category = "Inputs"
    description = "An image file: a path for plait run, or an upload in the editor."
    config_model = FileInputConfig

    def outputs(self, config: FileInputConfig) -> list[Port]:
        return [Port("image", PortType.IMAGE)]

    def cache_salt(self, config: FileInputConfig, files: FlowFiles) -> str:
        return files.signature(config.path) if config.path else ""

    def bundle_files(self, config: dict[str, Any], blob_of: Callable[[str], str]) -> dict[str, Any]:
        return file_as_blob(config, "path", blob_of)

    async def run(
        self, ctx: NodeContext, config: FileInputConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        if config.blob:
            return {"image": await ctx.store_image(await ctx.load_blob(config.blob))}
        path = config.path
        assert path is not None
        return {"image": await ctx.make_image(lambda: ctx.files.read_image(path))}
