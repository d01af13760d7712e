"""Values that flow between nodes: conversion along edges and JSON encoding for records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from plait.flows.ports import PortType
from plait.flows.template import as_text
from plait.media.image_ref import IMAGE_KEY, ImageRef


def convert(value: Any, source: PortType, target: PortType) -> Any:
    """A value from an output of type `source` as the input of type `target` expects it."""
    if target == PortType.IMAGE_LIST and source == PortType.IMAGE:
        return [value]
    if target == PortType.TEXT and source != PortType.TEXT:
        return as_text(value)
    return value


def to_json(value: Any) -> Any:
    """JSON-ready form: images become `{"$image": {...}}`."""
    return map_images(value, ImageRef.to_json)


def from_json(value: Any) -> Any:
    """The inverse of `to_json`."""
    if isinstance(value, dict):
        if IMAGE_KEY in value and len(value) == 1:
            return ImageRef.from_json(value)
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


def map_images(value: Any, fn: Callable[[ImageRef], Any]) -> Any:
    """`value` with every image replaced by `fn(image)` (e.g. a file path or a signed URL)."""
    if type(value) in _SCALARS:  # most values: no call per item below
        return value
    if isinstance(value, ImageRef):
        return fn(value)
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else map_images(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _SCALARS else map_images(v, fn) for v in value]
    return value


def images_in(value: Any) -> list[ImageRef]:
    found: list[ImageRef] = []
    map_images(value, found.append)
    return found


def digest(value: Any) -> str:
    """A content hash of a JSON-able value (images by their content hash)."""
    text = json.dumps(to_json(value), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
