"""The shape of an image Gemini returns when no aspect ratio is sent: the input's.

With no `aspectRatio` in `imageConfig`, Gemini keeps the shape of the (first) input image,
at the nearest ratio the model offers, and makes a square when there is no input image.
The preview backend and the test fake mirror it with `kept_ratio`.
"""

from __future__ import annotations

import math

from plait.providers.catalog import ModelInfo

AUTO = "auto"  # the Image node's ratio for "send none": an edit keeps its input's shape
SQUARE = "1:1"


def kept_ratio(model: ModelInfo, width: int, height: int) -> str:
    """The ratio of `model` nearest a `width` × `height` input (compared on a log scale,
    so 2:1 and 1:2 are equally far from 1:1)."""
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = model.dimensions[ratio]
        return abs(math.log(w / h) - target)

    return min(model.dimensions, key=distance)
