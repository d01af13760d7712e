"""The design step: text layers wrapped in a box, shrunk to fit, drawn on an image.

Every layer is drawn through a mask cropped to its box, so no pixel of its text or
stroke lands outside the box, whatever the font's metrics say.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from PIL import Image, ImageChops, ImageDraw, ImageFont
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from plait.errors import MediaError
from plait.media.colors import COLOR_PATTERN, RGBA, parse_color
from plait.media.fonts import FAMILIES, font_families, load_font

Align = Literal["left", "center", "right"]
Anchor = Literal[
    "top-left",
    "top",
    "top-right",
    "left",
    "center",
    "right",
    "bottom-left",
    "bottom",
    "bottom-right",
]
Rect = tuple[int, int, int, int]
"""left, top, right, bottom in pixels; right and bottom are exclusive."""

_ANCHOR_FRACTIONS: dict[str, tuple[float, float]] = {
    "top-left": (0.0, 0.0),
    "top": (0.5, 0.0),
    "top-right": (1.0, 0.0),
    "left": (0.0, 0.5),
    "center": (0.5, 0.5),
    "right": (1.0, 0.5),
    "bottom-left": (0.0, 1.0),
    "bottom": (0.5, 1.0),
    "bottom-right": (1.0, 1.0),
}
_ALIGN_FRACTIONS: dict[str, float] = {"left": 0.0, "center": 0.5, "right": 1.0}


def _check_color(value: str) -> str:
    try:
        parse_color(value)
    except MediaError as exc:
        raise ValueError(exc.message) from None  # pydantic reports ValueErrors per field
    return value


Color = Annotated[
    str,
    AfterValidator(_check_color),
    Field(json_schema_extra={"format": "color", "pattern": COLOR_PATTERN}),
]


class Plate(BaseModel):
    """A rounded rectangle drawn behind a layer's text."""

    model_config = ConfigDict(extra="forbid")

    color: Color = Field(
        default="#000000aa",
        description="Plate colour as hex: '#rgb', '#rgba', '#rrggbb' or '#rrggbbaa'",
    )
    padding: int = Field(default=16, ge=0, le=1024, description="Space around the text, in pixels")
    radius: int = Field(default=12, ge=0, le=1024, description="Corner radius, in pixels")


class TextLayer(BaseModel):
    """One block of copy: where it goes, how it wraps and shrinks, and how it looks."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The copy; '\\n' starts a new line")
    font: str = Field(
        default="inter",
        description="Font family",
        json_schema_extra={"enum": [*font_families()]},
    )
    bold: bool = Field(default=False, description="Use the bold face")
    size: int = Field(
        default=64, ge=1, le=2048, description="Font size in pixels; the largest size used"
    )
    min_size: int = Field(
        default=12,
        ge=1,
        le=2048,
        description="Smallest size shrink-to-fit may use (capped at size), in pixels",
    )
    color: Color = Field(default="#ffffff", description="Text colour as hex, alpha allowed")
    align: Align = Field(default="center", description="How lines line up inside the box")
    anchor: Anchor = Field(
        default="center",
        description="Which point of the box sits at (x, y); the text hugs the same side",
    )
    x: float = Field(default=0.5, ge=0, le=1, description="Anchor position, fraction of width")
    y: float = Field(default=0.5, ge=0, le=1, description="Anchor position, fraction of height")
    box_width: float = Field(
        default=0.9, gt=0, le=1, description="Width of the box the text wraps in, fraction of width"
    )
    box_height: float = Field(
        default=0.3, gt=0, le=1, description="Height of the text box, fraction of height"
    )
    shrink_to_fit: bool = Field(
        default=True,
        description=(
            "Use the largest size from size down to min_size at which the text fits the box;"
            " if none does, draw at min_size and clip to the box"
        ),
    )
    line_spacing: float = Field(
        default=1.2, ge=0.5, le=4, description="Distance between baselines, times the size"
    )
    stroke_width: int = Field(
        default=0, ge=0, le=256, description="Outline around the letters, in pixels"
    )
    stroke_color: Color = Field(default="#000000", description="Outline colour as hex")
    plate: Plate | None = Field(
        default=None, description="A rounded rectangle behind the text, or none"
    )

    @field_validator("font")
    @classmethod
    def _known_font(cls, value: str) -> str:
        if value not in FAMILIES:
            raise ValueError(f"unknown font {value!r}; use one of: {', '.join(font_families())}")
        return value


@dataclass(frozen=True, slots=True)
class LayoutResult:
    """Where a layer's text goes, in image pixels."""

    font_size: int
    lines: tuple[str, ...]
    origins: tuple[tuple[int, int], ...]
    """Each line's left end of the baseline (Pillow anchor "ls")."""
    text_bbox: Rect | None
    """Bounds of everything the lines draw, stroke included (it may stick out of the box
    when clipped); None for blank text."""
    box: Rect
    """The layer's box, clamped to the image; nothing is drawn outside it."""
    plate_box: Rect | None
    """The plate's rectangle: the visible text bounds grown by the padding, within the image."""
    clipped: bool
    """True when the text did not fit the box and was cut off."""


@dataclass(frozen=True, slots=True)
class _Attempt:
    """Lines wrapped at one size, measured relative to the first baseline at x=0."""

    size: int
    lines: tuple[str, ...]
    line_bboxes: tuple[Rect | None, ...]
    block: tuple[int, int]  # vertical extent: metrics and ink together (top, bottom)
    baselines: tuple[int, ...]


def layout(img_size: tuple[int, int], layer: TextLayer) -> LayoutResult:
    """Fit `layer` into its box on an image of `img_size`; pure and deterministic."""
    box = _box_rect(img_size, layer)
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    if not layer.text.strip() or box_w <= 0 or box_h <= 0:
        return LayoutResult(layer.size, (), (), None, box, None, bool(layer.text.strip()))
    attempt = _fit(layer, box_w, box_h)
    if attempt is not None:
        return _place(img_size, layer, box, attempt, clipped=False)
    fallback = _wrap_at(layer, _smallest_size(layer), box_w, None, allow_break=True)
    assert fallback is not None  # without a line limit, wrapping with breaks always succeeds
    return _place(img_size, layer, box, fallback, clipped=True)


def draw_layers(img: Image.Image, layers: Sequence[TextLayer]) -> Image.Image:
    """A new RGBA image with each layer drawn over `img`, in order."""
    out = img.convert("RGBA")
    for layer in layers:
        _draw_layer(out, layer)
    return out


# --- fitting -------------------------------------------------------------------------------


def _smallest_size(layer: TextLayer) -> int:
    return min(layer.min_size, layer.size) if layer.shrink_to_fit else layer.size


def _fit(layer: TextLayer, box_w: int, box_h: int) -> _Attempt | None:
    """The wrapped text at the largest size from min_size to size that fits, or None.

    Whole words are tried before any word is broken, so a long word shrinks rather
    than splits while shrinking can still help.
    """
    for allow_break in (False, True):
        attempt_at = functools.partial(_fitting_attempt, layer, box_w, box_h, allow_break)
        found = _largest(_smallest_size(layer), layer.size, attempt_at)
        if found is not None:
            return found
    return None


def _fitting_attempt(
    layer: TextLayer, box_w: int, box_h: int, allow_break: bool, size: int
) -> _Attempt | None:
    attempt = _wrap_at(layer, size, box_w, box_h, allow_break)
    return attempt if attempt is not None and _fits(attempt, box_w, box_h) else None


def _largest(low: int, high: int, attempt_at: Callable[[int], _Attempt | None]) -> _Attempt | None:
    """Bisect for the largest size that fits; the full size is tried first, as it usually does.

    Bisection is sound because a smaller font wraps into no more lines (up to a pixel
    of hinting), so whether the text fits is monotone in the size.
    """
    best = attempt_at(high)
    if best is not None:
        return best
    high -= 1
    while low <= high:
        middle = (low + high) // 2
        attempt = attempt_at(middle)
        if attempt is None:
            high = middle - 1
        else:
            best, low = attempt, middle + 1
    return best


def _fits(attempt: _Attempt, box_w: int, box_h: int) -> bool:
    widths_fit = all(b is None or b[2] - b[0] <= box_w for b in attempt.line_bboxes)
    return widths_fit and attempt.block[1] - attempt.block[0] <= box_h


def _wrap_at(
    layer: TextLayer, size: int, box_w: int, box_h: int | None, allow_break: bool
) -> _Attempt | None:
    """Wrap at `size`; None when a word is too wide (without breaking) or, given
    `box_h`, when more lines are needed than its height can hold."""
    font = load_font(layer.font, layer.bold, size)
    stroke = layer.stroke_width
    ascent, descent = font.getmetrics()
    pitch = size * layer.line_spacing
    max_lines = None
    if box_h is not None:
        # Conservative: baselines are rounded, so allow half a pixel.
        max_lines = math.floor((box_h - ascent - descent - 2 * stroke + 0.5) / pitch) + 1
        if max_lines < 1:
            return None
    fits = _Measure(font, stroke, box_w).fits
    lines = _Wrapper(fits, allow_break, max_lines).wrap(layer.text)
    if lines is None:
        return None
    baselines = tuple(_round(i * pitch) for i in range(len(lines)))
    bboxes = tuple(_line_bbox(font, line, stroke) for line in lines)
    top = -ascent - stroke
    bottom = baselines[-1] + descent + stroke
    for baseline, bbox in zip(baselines, bboxes, strict=True):
        if bbox is not None:
            top, bottom = min(top, baseline + bbox[1]), max(bottom, baseline + bbox[3])
    return _Attempt(size, tuple(lines), bboxes, (top, bottom), baselines)


def _line_bbox(font: ImageFont.FreeTypeFont, line: str, stroke: int) -> Rect | None:
    if not line:
        return None
    left, top, right, bottom = font.getbbox(line, stroke_width=stroke, anchor="ls")
    return int(left), int(top), int(right), int(bottom)


class _Measure:
    """Whether a line fits the box width, measuring as little as possible.

    Each font call costs tens of microseconds, so a line's width is first estimated
    from its words' cached advances; only near the edge is the line measured whole.
    The caller still checks every final line's real bounds.
    """

    def __init__(self, font: ImageFont.FreeTypeFont, stroke: int, box_w: int):
        self._font = font
        self._stroke = stroke
        self._box_w = box_w
        self._margin = math.ceil(font.size * 0.25) + 1  # more than any glyph overhang
        self._space = font.getlength(" ")
        self._advances: dict[str, float] = {}

    def fits(self, line: str) -> bool:
        words = line.split(" ")
        estimate = sum(self._advance(w) for w in words) + self._space * (len(words) - 1)
        estimate += 2 * self._stroke
        if estimate <= self._box_w - self._margin:
            return True
        if estimate > self._box_w + self._margin:
            return False
        left, _, right, _ = self._font.getbbox(line, stroke_width=self._stroke, anchor="ls")
        return right - left <= self._box_w

    def _advance(self, word: str) -> float:
        advance = self._advances.get(word)
        if advance is None:
            advance = self._advances[word] = self._font.getlength(word)
        return advance


class _TooManyLines(Exception):
    pass


class _Wrapper:
    """Greedy word wrap honouring explicit newlines."""

    def __init__(self, fits: Callable[[str], bool], allow_break: bool, max_lines: int | None):
        self._fits = fits
        self._allow_break = allow_break
        self._max_lines = max_lines
        self._lines: list[str] = []

    def wrap(self, text: str) -> list[str] | None:
        """The lines, or None when a word is too wide and may not be broken, or when
        there are more lines than `max_lines`."""
        try:
            for paragraph in text.splitlines():
                if not self._paragraph(paragraph.split()):
                    return None
        except _TooManyLines:
            return None
        return self._lines

    def _paragraph(self, words: list[str]) -> bool:
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if self._fits(candidate):
                current = candidate
                continue
            if current:
                self._emit(current)
            if self._fits(word):
                current = word
                continue
            if not self._allow_break:
                return False
            *full, current = _break_word(word, self._fits)
            for piece in full:
                self._emit(piece)
        self._emit(current)
        return True

    def _emit(self, line: str) -> None:
        self._lines.append(line)
        if self._max_lines is not None and len(self._lines) > self._max_lines:
            raise _TooManyLines


def _break_word(word: str, fits: Callable[[str], bool]) -> list[str]:
    """Split `word` into pieces that fit; a piece is at least one character."""
    pieces: list[str] = []
    while word:
        low, high = 1, len(word)  # bisect for the longest prefix that fits
        while low < high:
            middle = (low + high + 1) // 2
            if fits(word[:middle]):
                low = middle
            else:
                high = middle - 1
        while 1 < low < len(word) and unicodedata.combining(word[low]):
            low -= 1  # keep an accent with its letter
        pieces.append(word[:low])
        word = word[low:]
    return pieces


# --- placing -------------------------------------------------------------------------------


def _box_rect(img_size: tuple[int, int], layer: TextLayer) -> Rect:
    width, height = img_size
    box_w = max(1, _round(layer.box_width * width))
    box_h = max(1, _round(layer.box_height * height))
    fx, fy = _ANCHOR_FRACTIONS[layer.anchor]
    left = _round(layer.x * width - fx * box_w)
    top = _round(layer.y * height - fy * box_h)
    return _intersect((left, top, left + box_w, top + box_h), (0, 0, width, height))


def _place(
    img_size: tuple[int, int], layer: TextLayer, box: Rect, attempt: _Attempt, clipped: bool
) -> LayoutResult:
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    _, fy = _ANCHOR_FRACTIONS[layer.anchor]
    fa = _ALIGN_FRACTIONS[layer.align]
    block_top, block_bottom = attempt.block
    first_baseline = box[1] + _round((box_h - (block_bottom - block_top)) * fy) - block_top
    origins: list[tuple[int, int]] = []
    ink: list[Rect] = []
    for baseline, bbox in zip(attempt.baselines, attempt.line_bboxes, strict=True):
        y = first_baseline + baseline
        if bbox is None:
            origins.append((box[0], y))
            continue
        x = box[0] + _round((box_w - (bbox[2] - bbox[0])) * fa) - bbox[0]
        origins.append((x, y))
        ink.append((x + bbox[0], y + bbox[1], x + bbox[2], y + bbox[3]))
    text_bbox = _union(ink)
    return LayoutResult(
        font_size=attempt.size,
        lines=attempt.lines,
        origins=tuple(origins),
        text_bbox=text_bbox,
        box=box,
        plate_box=_plate_rect(img_size, layer, box, text_bbox),
        clipped=clipped,
    )


def _plate_rect(
    img_size: tuple[int, int], layer: TextLayer, box: Rect, text_bbox: Rect | None
) -> Rect | None:
    if layer.plate is None or text_bbox is None:
        return None
    shown = _intersect(text_bbox, box)
    if not _area(shown):
        return None
    pad = layer.plate.padding
    grown = (shown[0] - pad, shown[1] - pad, shown[2] + pad, shown[3] + pad)
    plate = _intersect(grown, (0, 0, *img_size))
    return plate if _area(plate) else None


# --- drawing -------------------------------------------------------------------------------


def _draw_layer(out: Image.Image, layer: TextLayer) -> None:
    result = layout(out.size, layer)
    if result.text_bbox is None:
        return
    if layer.plate is not None and result.plate_box is not None:
        _paint(
            out,
            _plate_mask(result.plate_box, layer.plate.radius),
            layer.plate.color,
            result.plate_box,
        )
    region = _intersect(result.text_bbox, result.box)
    if not _area(region):
        return
    font = load_font(layer.font, layer.bold, result.font_size)
    if layer.stroke_width:
        stroke = _text_mask(result, region, font, layer.stroke_width)
        _paint(out, stroke, layer.stroke_color, region)
    _paint(out, _text_mask(result, region, font, 0), layer.color, region)


def _text_mask(
    result: LayoutResult, region: Rect, font: ImageFont.FreeTypeFont, stroke: int
) -> Image.Image:
    """Coverage of the lines inside `region`; drawing off the mask's edge is what clips."""
    mask = Image.new("L", (region[2] - region[0], region[3] - region[1]), 0)
    draw = ImageDraw.Draw(mask)
    for line, (x, y) in zip(result.lines, result.origins, strict=True):
        if line:
            xy = (x - region[0], y - region[1])
            draw.text(xy, line, fill=255, font=font, anchor="ls", stroke_width=stroke)
    return mask


def _plate_mask(rect: Rect, radius: int) -> Image.Image:
    width, height = rect[2] - rect[0], rect[3] - rect[1]
    mask = Image.new("L", (width, height), 0)
    radius = min(radius, width // 2, height // 2)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, width - 1, height - 1), radius, fill=255)
    return mask


def _paint(out: Image.Image, mask: Image.Image, color: str, at: Rect) -> None:
    """Composite `color` through `mask` (scaled by the colour's alpha) onto `out` at `at`."""
    rgba: RGBA = parse_color(color)
    alpha = mask
    if rgba[3] < 255:
        alpha = ImageChops.multiply(mask, Image.new("L", mask.size, rgba[3]))
    layer = Image.new("RGBA", mask.size, rgba)
    layer.putalpha(alpha)
    out.alpha_composite(layer, dest=(at[0], at[1]))


# --- rectangles ----------------------------------------------------------------------------


def _round(value: float) -> int:
    """Round half up (the built-in round() rounds half to even)."""
    return math.floor(value + 0.5)


def _intersect(a: Rect, b: Rect) -> Rect:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    return left, top, max(left, min(a[2], b[2])), max(top, min(a[3], b[3]))


def _area(rect: Rect) -> int:
    return (rect[2] - rect[0]) * (rect[3] - rect[1])


def _union(rects: list[Rect]) -> Rect | None:
    if not rects:
        return None
    return (
        min(r[0] for r in rects),
        min(r[1] for r in rects),
        max(r[2] for r in rects),
        max(r[3] for r in rects),
    )
