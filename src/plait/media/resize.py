"""Resizing with CSS-like fit modes: contain, cover, fill and pad."""

from __future__ import annotations

from typing import Literal, get_args

from PIL import Image, ImageOps

from plait.errors import MediaError
from plait.media.colors import parse_color

Fit = Literal["contain", "cover", "fill", "pad"]
MAX_SIDE = 8192
_FITS: tuple[str, ...] = get_args(Fit)
_LANCZOS = Image.Resampling.LANCZOS


def resize(
    img: Image.Image,
    width: int | None,
    height: int | None,
    fit: Fit = "contain",
    pad_color: str = "#ffffff",
) -> Image.Image:
    """A new image scaled to `width` and/or `height`; raises MediaError on bad arguments.

    With one side given the other keeps the aspect ratio and `fit` is ignored.
    """
    if width is None and height is None:
        raise MediaError("give a width, a height, or both to resize an image")
    _check_side("width", width)
    _check_side("height", height)
    if fit not in _FITS:
        raise MediaError(f"unknown fit {fit!r}; use one of: {', '.join(_FITS)}")
    img = _workable(img)
    if width is None or height is None:
        return img.resize(_one_side(img.size, width, height), _LANCZOS)
    if fit == "fill":
        return img.resize((width, height), _LANCZOS)
    if fit == "cover":
        return ImageOps.fit(img, (width, height), _LANCZOS, centering=(0.5, 0.5))
    contained = img.resize(contain_size(img.size, (width, height)), _LANCZOS)
    if fit == "contain":
        return contained
    return _pad(contained, (width, height), pad_color)


def contain_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size with `size`'s aspect ratio that fits inside `box`."""
    scale = min(box[0] / size[0], box[1] / size[1])
    return (
        min(box[0], max(1, round(size[0] * scale))),
        min(box[1], max(1, round(size[1] * scale))),
    )


def _one_side(size: tuple[int, int], width: int | None, height: int | None) -> tuple[int, int]:
    if height is None:
        assert width is not None
        result = (width, max(1, round(size[1] * width / size[0])))
    else:
        result = (max(1, round(size[0] * height / size[1])), height)
    if max(result) > MAX_SIDE:
        raise MediaError(
            f"keeping the aspect ratio would make the image {result[0]}x{result[1]}, "
            f"over the {MAX_SIDE}-pixel limit; give both sides and a fit mode instead"
        )
    return result


def _pad(img: Image.Image, box: tuple[int, int], pad_color: str) -> Image.Image:
    color = parse_color(pad_color)
    has_alpha = color[3] < 255 or img.mode in ("RGBA", "LA")
    mode = "RGBA" if has_alpha else "RGB"
    canvas = Image.new(mode, box, color if has_alpha else color[:3])
    offset = ((box[0] - img.width) // 2, (box[1] - img.height) // 2)
    canvas.paste(img.convert(mode), offset)
    return canvas


def _check_side(name: str, value: int | None) -> None:
    if value is not None and not 1 <= value <= MAX_SIDE:
        raise MediaError(f"{name} {value} is out of range; use 1 to {MAX_SIDE} pixels")


def _workable(img: Image.Image) -> Image.Image:
    """Palette, bilevel, CMYK and other modes become RGB(A): LANCZOS needs continuous tones."""
    if img.mode in ("RGB", "RGBA", "L", "LA"):
        return img
    return img.convert("RGBA" if img.has_transparency_data else "RGB")
