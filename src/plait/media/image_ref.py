"""A reference to an image in the blob store: what flows between nodes instead of bytes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

IMAGE_KEY = "$image"


@dataclass(frozen=True, slots=True)
class ImageRef:
    sha256: str
    media_type: str
    width: int
    height: int
    size: int

    @property
    def extension(self) -> str:
        return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[self.media_type]

    def to_json(self) -> dict[str, Any]:
        """Tagged form used in run records: `{"$image": {...}}`."""
        return {IMAGE_KEY: asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageRef:
        return cls(**data[IMAGE_KEY])
