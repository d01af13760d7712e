"""Decoding, checking and encoding images with Pillow.

Types are decided by magic bytes, never by names. Only PNG, JPEG, WebP and HEIC/HEIF
(`heif.py`) are accepted; Pillow's decompression-bomb warning is an error.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from plait.errors import MediaError
from plait.media import heif, work

Image.MAX_IMAGE_PIXELS = 64_000_000  # about 8000 x 8000; Gemini's 4K outputs fit easily
OutputFormat = Literal["png", "jpeg", "webp"]

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"WEBP", 8, "image/webp"),
)
_PIL_FORMAT = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WEBP",
    heif.HEIC: "HEIF",
    heif.HEIF: "HEIF",
}
# What Pillow's decoders and encoders raise on malformed input (a fuzz test shows each):
# bad chunks are ValueError or struct.error, short reads OSError or EOFError, and so on.
_PIL_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    struct.error,
)
ACCEPTED = "a PNG, JPEG, WebP, HEIC or HEIF image"  # what `sniff` lets through, in words
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    media_type: str
    width: int
    height: int


_FORMAT_OF: dict[str, OutputFormat] = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/webp": "webp",
    heif.HEIC: "jpeg",  # no HEIF encoder (pi-heif decodes only): photos become JPEG
    heif.HEIF: "jpeg",
}


def sniff(data: bytes) -> str | None:
    """The media type the magic bytes announce, or None when not PNG, JPEG, WebP or
    HEIC/HEIF."""
    for magic, offset, media_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if media_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return media_type
    return heif.media_type(data)


def inspect(data: bytes) -> ImageInfo:
    """Type and pixel size, reading only the header."""
    media_type = _require_type(data)
    with _open(data) as img:
        return ImageInfo(media_type, img.width, img.height)


def decode(data: bytes, at_least: int | None = None) -> Image.Image:
    """Fully decoded pixels, with EXIF orientation applied; raises MediaError.

    `at_least`: both sides need be no larger than this (a resize's target): a JPEG is then
    decoded at a reduced scale (1/2, 1/4, 1/8) that keeps both sides at least that big.
    The memory is reserved (`plait.media.work`) before any pixel is decoded."""
    media_type = _require_type(data)
    with _open(data) as img:
        try:
            if at_least is not None and img.format == "JPEG":
                img.draft(img.mode, (at_least, at_least))
            work.reserve_pixels(img.width, img.height)
            img.load()
            return ImageOps.exif_transpose(img)
        except _PIL_ERRORS:
            raise _damaged(media_type) from None


def encode(img: Image.Image, fmt: OutputFormat = "png", quality: int = 90) -> bytes:
    """Encode pixels; metadata is not carried over."""
    if fmt == "jpeg" and img.mode not in ("RGB", "L"):
        img = _flatten(img)
    elif img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA")
    out = io.BytesIO()
    options: dict[str, object] = {"optimize": False}
    if fmt == "png":
        options = {"compress_level": 6}
    elif fmt in ("jpeg", "webp"):
        options = {"quality": quality}
    img.save(out, format=fmt.upper(), **options)
    return out.getvalue()


def sanitize(data: bytes) -> bytes:
    """Untrusted image bytes re-encoded in their own format (HEIC/HEIF as JPEG): EXIF
    orientation applied, metadata (location, camera, comments) and anything trailing the
    image dropped."""
    media_type = _require_type(data)
    pixels = decode(data)
    try:
        return encode(pixels, _FORMAT_OF[media_type], quality=95)
    except _PIL_ERRORS as exc:  # e.g. wider than WebP allows (16383 pixels)
        kind = _PIL_FORMAT[media_type]
        raise MediaError(f"the {kind} image cannot be re-encoded: {exc}") from None


def _flatten(img: Image.Image) -> Image.Image:
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _require_type(data: bytes) -> str:
    media_type = sniff(data)
    if media_type is None:
        raise MediaError(f"not {ACCEPTED} (decided by the file's content)")
    return media_type


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[_require_type(data)]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(
            f"the image has more than {Image.MAX_IMAGE_PIXELS:,} pixels; refusing to decode it"
        ) from None
    except (UnidentifiedImageError, *_PIL_ERRORS):
        raise _damaged(_require_type(data)) from None


def _damaged(media_type: str) -> MediaError:
    """Pillow's own messages name its internals (`<_io.BytesIO object at 0x…>`), not the file."""
    kind = _PIL_FORMAT[media_type]
    return MediaError(f"the {kind} image is damaged or truncated and cannot be decoded")
