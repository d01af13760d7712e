"""The fonts shipped with Plait, loaded from the package so they work from a wheel."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PIL import ImageFont

from plait.errors import MediaError

MAX_FONT_SIZE = 4096


@dataclass(frozen=True, slots=True)
class FontFamily:
    id: str
    label: str
    regular: str
    bold: str


FAMILIES: dict[str, FontFamily] = {
    family.id: family
    for family in (
        FontFamily("inter", "Inter", "Inter-Regular.otf", "Inter-Bold.otf"),
        FontFamily("dejavu-sans", "DejaVu Sans", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    )
}


def font_families() -> list[str]:
    """The family ids `load_font` accepts, in display order."""
    return list(FAMILIES)


@functools.lru_cache(maxsize=128)
def load_font(family: str, bold: bool, size: int) -> ImageFont.FreeTypeFont:
    """A shipped font at `size` pixels; raises MediaError for an unknown family or bad size."""
    known = FAMILIES.get(family)
    if known is None:
        raise MediaError(
            f"unknown font family {family!r}; use one of: {', '.join(font_families())}"
        )
    if not 1 <= size <= MAX_FONT_SIZE:
        raise MediaError(f"font size {size} is out of range; use 1 to {MAX_FONT_SIZE} pixels")
    source = _font_source(known.bold if bold else known.regular)
    # FreeTypeFont rather than truetype(): truetype() quietly falls back to a system font
    # of the same file name when ours cannot be opened.
    return ImageFont.FreeTypeFont(source if isinstance(source, str) else io.BytesIO(source), size)


@functools.cache
def _font_source(filename: str) -> str | bytes:
    """A file path when the package is on disk, else the file's bytes (a zipped install).

    A path is preferred: FreeType then maps the file, whereas a font made from bytes
    keeps its own copy, once per cached size.
    """
    resource = resources.files("plait.media") / "fonts" / filename
    if isinstance(resource, Path) and resource.is_file():
        return str(resource)
    return resource.read_bytes()
