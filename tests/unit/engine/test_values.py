"""Values between nodes: JSON encoding of images for run records, and back."""

from __future__ import annotations

import json

from plait.engine.values import from_json, images_in, to_json
from plait.media.image_ref import ImageRef

RED = ImageRef("a" * 64, "image/png", 1024, 768, 4566)
BLUE = ImageRef("b" * 64, "image/webp", 64, 64, 120)


def test_images_anywhere_in_a_value_survive_json_and_back() -> None:
    value = {"image": RED, "images": [RED, BLUE], "text": "hi", "nested": {"n": 3, "i": (BLUE,)}}
    encoded = json.loads(json.dumps(to_json(value)))
    assert encoded["image"] == {
        "$image": {
            "sha256": "a" * 64,
            "media_type": "image/png",
            "width": 1024,
            "height": 768,
            "size": 4566,
        }
    }
    assert from_json(encoded) == {**value, "nested": {"n": 3, "i": [BLUE]}}
    assert images_in(value) == [RED, RED, BLUE, BLUE]
