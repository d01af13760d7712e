"""A reference to an image in the blob store: what flows between nodes instead of bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IMAGE_KEY = "$image"
_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
}


@dataclass(frozen=True, slots=True)
class ImageRef:
    sha256: str
    media_type: str
    width: int
    height: int
    size: int

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.media_type]

    def to_json(self) -> dict[str, Any]:
        """Tagged form used in run records: `{"$image": {...}}`."""
        fields = {  # not dataclasses.asdict: it deep-copies, on every record of every run
            "sha256": self.sha256,
            "media_type": self.media_type,
            "width": self.width,
            "height": self.height,
            "size": self.size,
        }
        return {IMAGE_KEY: fields}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageRef:
        return cls(**data[IMAGE_KEY])
