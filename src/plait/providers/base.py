"""The seam between the Image node and image models: one request type, one result type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from plait.providers.gemini_models import ModelList


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    data: bytes
    media_type: str


Part = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """What is sent: ordered parts (prompt, then caption + image per reference) and image config."""

    model: str
    parts: tuple[Part, ...]
    aspect_ratio: str | None = None
    image_size: str | None = None
    response_modalities: tuple[str, ...] = ("TEXT", "IMAGE")


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    data: bytes
    media_type: str


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cost_usd + other.cost_usd,
        )


@dataclass(slots=True)
class ImageResult:
    images: list[GeneratedImage]
    text: str = ""
    usage: Usage = field(default_factory=Usage)
    backend: str = ""


class ImageProvider(Protocol):
    """An image model backend (Gemini, the offline preview, ...).

    `model_list` is the models its API key may call (Gemini's `models.list`), checked
    before each paid call; None when there is none to check (the preview, a provider made
    without a key's list). A wrapper forwards the list of the provider it sends through."""

    name: str

    @property
    def model_list(self) -> ModelList | None: ...

    async def generate(self, request: ImageRequest) -> ImageResult: ...

    async def aclose(self) -> None:
        """Release connections; the provider is not used afterwards."""
