"""The offline preview backend: free, instant, and honest about what would be sent.

It renders an image of exactly the size the model would return, showing the
prompt and then each reference's caption beside a thumbnail of its image, in
the order Gemini would receive them.
"""

from __future__ import annotations

import hashlib
import math
from functools import partial

from PIL import Image

from plait.media import images, work
from plait.media.overlay import Plate, TextLayer, draw_layers
from plait.media.resize import resize
from plait.providers import catalog
from plait.providers.base import GeneratedImage, ImagePart, ImageRequest, ImageResult, TextPart
from plait.providers.shape import SQUARE, kept_ratio

_PLATE = Plate(color="#00000088", padding=8, radius=8)


class PreviewProvider:
    name = "preview"
    model_list = None  # free: no key's model list to check

    async def generate(self, request: ImageRequest) -> ImageResult:
        data = await work.run(partial(render, request))  # the bounded image pool
        return ImageResult(images=[GeneratedImage(data, "image/png")], backend=self.name)

    async def aclose(self) -> None:
        return None


def render(request: ImageRequest) -> bytes:
    model = catalog.current().get(request.model)
    prompt, references = _split(request)
    ratio = request.aspect_ratio or _kept(model, references)
    width, height = model.pixel_size(ratio, request.image_size)
    canvas = Image.new("RGB", (width, height), _background(prompt))
    label = ratio if request.aspect_ratio else f"auto {ratio}"
    layers = [_header(request, label, width, height)]
    layers.append(_prompt_layer(prompt, height, bool(references)))
    layers += _paste_references(canvas, references)
    return images.encode(draw_layers(canvas, layers).convert("RGB"), "png")


def _kept(model: catalog.ModelInfo, references: list[tuple[str, ImagePart]]) -> str:
    """With no ratio sent Gemini keeps the first image's shape (a square without one)."""
    if not references:
        return SQUARE
    info = images.inspect(references[0][1].data)
    return kept_ratio(model, info.width, info.height)


def _split(request: ImageRequest) -> tuple[str, list[tuple[str, ImagePart]]]:
    """The prompt, then (caption, image) pairs in request order."""
    parts = list(request.parts)
    first = parts[0] if parts else None
    prompt = first.text if isinstance(first, TextPart) else ""
    parts = parts[1:] if isinstance(first, TextPart) else parts
    pairs: list[tuple[str, ImagePart]] = []
    caption = ""
    for part in parts:
        if isinstance(part, TextPart):
            caption = part.text
        else:
            pairs.append((caption, part))
            caption = ""
    return prompt, pairs


def _background(prompt: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(prompt.encode()).digest()
    return (40 + digest[0] % 60, 40 + digest[1] % 60, 60 + digest[2] % 70)


def _scale(height: int) -> float:
    return max(height, 512) / 1024


def _header(request: ImageRequest, ratio: str, width: int, height: int) -> TextLayer:
    size = f" · {request.image_size}" if request.image_size else ""
    label = f"PREVIEW · {request.model} · {ratio}{size} · {width}×{height}"
    s = _scale(height)
    return TextLayer(
        text=label, size=round(22 * s), min_size=6, color="#ffffffcc", anchor="top",
        x=0.5, y=0.02, box_width=0.96, box_height=0.08, bold=True,
    )  # fmt: skip


def _prompt_layer(prompt: str, height: int, has_references: bool) -> TextLayer:
    s = _scale(height)
    return TextLayer(
        text=prompt or "(no prompt)", size=round(56 * s), min_size=8, anchor="center",
        x=0.5, y=0.3 if has_references else 0.5, box_width=0.9,
        box_height=0.36 if has_references else 0.7, plate=_PLATE,
    )  # fmt: skip


def _paste_references(
    canvas: Image.Image, references: list[tuple[str, ImagePart]]
) -> list[TextLayer]:
    """Thumbnails in a grid over the lower half, each with its caption beneath it."""
    if not references:
        return []
    width, height = canvas.size
    columns = min(len(references), 4)
    rows = math.ceil(len(references) / columns)
    cell_w, cell_h = 0.96 / columns, 0.48 / rows
    layers = []
    for i, (caption, part) in enumerate(references):
        left = 0.02 + (i % columns) * cell_w
        top = 0.5 + (i // columns) * cell_h
        box = (max(1, round(cell_w * width * 0.9)), max(1, round(cell_h * height * 0.7)))
        thumb = resize(images.decode(part.data, at_least=max(box)), *box, "contain")
        x = round((left + cell_w / 2) * width - thumb.width / 2)
        canvas.paste(thumb.convert("RGB"), (x, round(top * height)))
        layers.append(_caption(f"{i + 1}. {caption}" if caption else f"{i + 1}.", left, top,
                               cell_w, cell_h, height))  # fmt: skip
    return layers


def _caption(
    text: str, left: float, top: float, cell_w: float, cell_h: float, height: int
) -> TextLayer:
    return TextLayer(
        text=text, size=round(28 * _scale(height)), min_size=6, anchor="top",
        x=left + cell_w / 2, y=min(1.0, top + cell_h * 0.72), box_width=cell_w * 0.95,
        box_height=cell_h * 0.26, plate=_PLATE,
    )  # fmt: skip
