"""HEIC and HEIF: recognised by their `ftyp` box, decoded by libheif (the `pi-heif` plugin).

Gemini takes both (`image/heic`, `image/heif`), so a reference in either format is sent as
it is. `pi-heif` decodes only: uploads, which are re-encoded to drop their metadata, become
JPEG. AVIF shares the container and is not accepted.
"""

from __future__ import annotations

import pi_heif  # type: ignore[import-untyped]  # ships no type information

HEIC = "image/heic"
HEIF = "image/heif"
# ISO/IEC 23008-12 brands: HEVC-coded images are HEIC; the generic image brands HEIF.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})

pi_heif.register_heif_opener()  # Pillow opens both as its format "HEIF"


def media_type(data: bytes) -> str | None:
    """`image/heic` or `image/heif` when the first box is an `ftyp` with such a major brand."""
    if data[4:8] != b"ftyp":
        return None
    brand = data[8:12]
    if brand in _HEIC_BRANDS:
        return HEIC
    return HEIF if brand in _HEIF_BRANDS else None
