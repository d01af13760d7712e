"""HEIC and HEIF references: recognised by magic bytes, decoded offline by libheif."""

from __future__ import annotations

import pytest

from plait.errors import MediaError
from plait.media import images
from tests.helpers import HEIC_PHOTO, open_image


def _ftyp(brand: bytes) -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1" + b"\x00" * 16


def test_a_heic_photo_is_recognised_by_its_content_and_decoded() -> None:
    data = HEIC_PHOTO.read_bytes()

    assert images.sniff(data) == "image/heic"
    assert images.inspect(data) == images.ImageInfo("image/heic", 64, 48)
    pixels = images.decode(data)
    assert pixels.size == (64, 48)
    assert pixels.mode == "RGB"
    blue = [pixels.getpixel((x, 47))[2] for x in range(64)]  # type: ignore[index]
    assert sum(blue) / len(blue) > 100  # the photo's blue ground came through


@pytest.mark.parametrize(
    ("brand", "media_type"),
    [(b"heic", "image/heic"), (b"heix", "image/heic"), (b"mif1", "image/heif"),
     (b"msf1", "image/heif"), (b"avif", None), (b"isom", None)],
)  # fmt: skip
def test_the_major_brand_decides_heic_heif_or_neither(brand: bytes, media_type: str | None) -> None:
    assert images.sniff(_ftyp(brand)) == media_type


def test_an_uploaded_heic_is_re_encoded_as_jpeg_without_its_metadata() -> None:
    clean = images.sanitize(HEIC_PHOTO.read_bytes())

    assert images.sniff(clean) == "image/jpeg"
    assert open_image(clean).size == (64, 48)


def test_a_damaged_heic_is_a_clear_media_error() -> None:
    data = HEIC_PHOTO.read_bytes()

    with pytest.raises(MediaError, match="the HEIF image is damaged or truncated"):
        images.decode(data[: len(data) // 2])
