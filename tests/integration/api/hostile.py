"""Hostile files for the upload and trigger tests: bombs, look-alikes, damaged images."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from tests.helpers import png


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid PNG header declaring `width` x `height` RGB pixels, in under 100 bytes:
    decoding it would need width * height * 3 bytes of memory."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * (1 + 3 * width))  # one row; a decoder would want them all
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 160, 90)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = jpeg()
    return data[: len(data) // 2]


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def png_html_polyglot() -> bytes:
    """A real PNG with an HTML page in a text chunk and after its end."""
    image = png(12, 8)
    text = _chunk(b"tEXt", b"Comment\0" + HTML)
    return image[:33] + text + image[33:] + HTML


GOOD_PNG = png(20, 10)
