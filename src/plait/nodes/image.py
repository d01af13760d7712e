"""Image (Gemini): generate or edit images from a prompt and ordered, captioned references."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from plait.errors import InputError, ProviderError
from plait.flows.model import NAME_PATTERN
from plait.flows.ports import Port, PortType, not_given
from plait.flows.template import Template
from plait.media import images
from plait.media.files import FlowFiles
from plait.media.image_ref import ImageRef
from plait.nodes.base import NodeContext, NodeType, file_as_blob
from plait.providers import catalog, gemini_models
from plait.providers.base import ImagePart, ImageRequest, ImageResult, Part, TextPart, Usage
from plait.providers.shape import AUTO

Modality = Literal["TEXT", "IMAGE"]


class ReferenceImage(BaseModel):
    port: str = Field(
        pattern=rf"^{NAME_PATTERN}$", description="Input port name for this reference's image"
    )
    caption: Template = Field(
        default=Template(""), description="Sent directly before the image, e.g. 'the product:'"
    )
    file: str | None = Field(default=None, description="Image file used when the port is unwired")
    blob: str | None = Field(
        default=None, description="Uploaded image used when the port is unwired"
    )


class ImageConfig(BaseModel):
    model: str = Field(
        default_factory=lambda: catalog.current().default, description="Gemini image model"
    )
    prompt: Template = Field(default=Template(""), description="What to generate or change")
    references: list[ReferenceImage] = Field(
        default_factory=list, description="Ordered reference images, each with a caption"
    )
    aspect_ratio: str = Field(
        default=AUTO,
        description=(
            "Output aspect ratio; 'auto' sends none, so an edit keeps its first reference "
            "image's shape (a square without references)"
        ),
    )
    image_size: str | None = Field(
        default=None, description="Output size, for models that have one"
    )
    number_of_images: int = Field(default=1, ge=1, le=8, description="Images to generate")
    response_modalities: list[Modality] = Field(
        default=["TEXT", "IMAGE"],
        min_length=1,
        description="What the model returns: always IMAGE, and TEXT (its words) if wanted",
    )

    @field_validator("model")
    @classmethod
    def _known_model(cls, model: str) -> str:
        try:
            info = catalog.current().get(model)
        except catalog.UnknownModel as exc:
            raise ValueError(exc.message) from None
        if not info.runs:
            raise ValueError(info.shut_down_message())
        return model

    @field_validator("references")
    @classmethod
    def _references_fit(
        cls, refs: list[ReferenceImage], info: ValidationInfo
    ) -> list[ReferenceImage]:
        ports = [r.port for r in refs]
        if len(set(ports)) != len(ports) or "prompt" in ports:
            raise ValueError("each reference needs its own port name, other than 'prompt'")
        model = _model(info)
        if model is not None and len(refs) > model.max_references:
            raise ValueError(
                f"{model.id} takes at most {model.max_references} reference images; "
                f"this node has {len(refs)}"
            )
        return refs

    @field_validator("aspect_ratio")
    @classmethod
    def _ratio_offered(cls, ratio: str, info: ValidationInfo) -> str:
        model = _model(info)
        if model is not None and ratio != AUTO and ratio not in model.dimensions:
            raise ValueError(
                f"{model.id} does not offer aspect ratio '{ratio}'; "
                f"choose {AUTO} or one of {', '.join(model.aspect_ratios)}"
            )
        return ratio

    @field_validator("response_modalities")
    @classmethod
    def _asks_for_an_image(cls, modalities: list[Modality]) -> list[Modality]:
        if "IMAGE" not in modalities:
            raise ValueError(
                "an Image node always asks for an image: keep IMAGE (TEXT is optional)"
            )
        return [m for m in ("TEXT", "IMAGE") if m in modalities]  # Gemini's order, once each

    @field_validator("image_size")
    @classmethod
    def _size_offered(cls, size: str | None, info: ValidationInfo) -> str | None:
        model = _model(info)
        if model is None or size is None or size in model.sizes:
            return size
        if not model.sizes:
            raise ValueError(f"{model.id} has no size choice; leave image_size empty")
        raise ValueError(
            f"{model.id} does not offer size '{size}'; choose one of {', '.join(model.sizes)}"
        )


def _model(info: ValidationInfo) -> catalog.ModelInfo | None:
    model_id = info.data.get("model")  # absent when the model itself was invalid
    return catalog.current().get(model_id) if model_id else None


class Image(NodeType[ImageConfig]):
    type = "image"
    title = "Image (Gemini)"
    category = "Images"
    description = "Generate or edit images with a Gemini image model (Nano Banana family)."
    config_model = ImageConfig
    reaches_out = True
    uses_image_provider = True

    def inputs(self, config: ImageConfig) -> list[Port]:
        prompt = Port("prompt", PortType.TEXT, config_fallback=True)
        refs = [Port(r.port, PortType.IMAGE, config_fallback=True) for r in config.references]
        return [prompt, *refs]

    def outputs(self, config: ImageConfig) -> list[Port]:
        return [
            Port("image", PortType.IMAGE, description="The first image"),
            Port("images", PortType.IMAGE_LIST, description="Every image"),
            Port("text", PortType.TEXT, description="Text the model returned, if any"),
        ]

    def config_value(self, config: ImageConfig, port: str) -> Any:
        for ref in config.references:
            if ref.port == port:
                return ref.file or ref.blob
        return super().config_value(config, port)

    def warnings(self, config: ImageConfig) -> list[tuple[str, str]]:
        warning = catalog.current().get(config.model).lifecycle_warning()
        return [("model", warning)] if warning else []

    def cache_salt(self, config: ImageConfig, files: FlowFiles) -> str:
        return "|".join(files.signature(r.file) for r in config.references if r.file)

    def bundle_files(self, config: dict[str, Any], blob_of: Callable[[str], str]) -> dict[str, Any]:
        refs = config.get("references")
        if not isinstance(refs, list):
            return config
        bundled = [file_as_blob(r, "file", blob_of) if isinstance(r, dict) else r for r in refs]
        return {**config, "references": bundled}

    async def run(
        self, ctx: NodeContext, config: ImageConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        request = await build_request(ctx, config, inputs)
        provider = ctx.image_provider()
        current = catalog.current()
        await gemini_models.ensure_usable(provider, current.get(request.model), current)
        calls = [provider.generate(request) for _ in range(config.number_of_images)]
        # one call is awaited in this task: a gathered task would cost a loop turn per row
        results = [await calls[0]] if len(calls) == 1 else await asyncio.gather(*calls)
        usage = sum((r.usage for r in results), Usage())
        ctx.record_usage(usage, provider.name)
        return await _outputs(ctx, results, request.model)


async def build_request(
    ctx: NodeContext, config: ImageConfig, inputs: dict[str, Any]
) -> ImageRequest:
    """The prompt first, then for each reference its caption directly followed by its image."""
    model = catalog.current().get(config.model)
    if not_given(inputs.get("prompt")):
        raise InputError(
            "the prompt is empty: type one, or send text to what it is wired to", port="prompt"
        )
    parts: list[Part] = [TextPart(str(inputs["prompt"]))]
    for ref in config.references:
        if ref.caption:
            parts.append(TextPart(str(ref.caption)))
        parts.append(await _reference_image(ctx, ref, inputs.get(ref.port)))
    size = config.image_size or (model.default_size if model.sizes else None)
    return ImageRequest(
        model=model.id,
        parts=tuple(parts),
        aspect_ratio=None if config.aspect_ratio == AUTO else config.aspect_ratio,
        image_size=size,
        response_modalities=tuple(config.response_modalities),
    )


async def _reference_image(ctx: NodeContext, ref: ReferenceImage, value: Any) -> ImagePart:
    if isinstance(value, ImageRef):
        return ImagePart(await ctx.load_blob(value.sha256), value.media_type)
    if ref.blob:
        data = await ctx.load_blob(ref.blob)
    else:
        assert ref.file is not None
        data = await asyncio.to_thread(ctx.files.read_image, ref.file)
    media_type = images.sniff(data)
    assert media_type is not None  # read_image_file and uploads only let images through
    return ImagePart(data, media_type)


async def _outputs(ctx: NodeContext, results: list[ImageResult], model: str) -> dict[str, Any]:
    refs = [await ctx.store_image(img.data) for r in results for img in r.images]
    if not refs:
        raise ProviderError(f"{model} returned no image; try rewording the prompt", port="image")
    text = "\n".join(r.text for r in results if r.text)
    return {"image": refs[0], "images": refs, "text": text}
