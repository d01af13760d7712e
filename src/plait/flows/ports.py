"""Port types and which output types an input port accepts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PortType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"
    IMAGE = "image"
    IMAGE_LIST = "image_list"
    ANY = "any"


# input type -> output types it accepts (besides its own type and `any`)
_ACCEPTS: dict[PortType, frozenset[PortType]] = {
    PortType.TEXT: frozenset({PortType.NUMBER, PortType.BOOLEAN}),
    PortType.NUMBER: frozenset(),
    PortType.BOOLEAN: frozenset(),
    PortType.JSON: frozenset({PortType.TEXT, PortType.NUMBER, PortType.BOOLEAN}),
    PortType.IMAGE: frozenset(),
    PortType.IMAGE_LIST: frozenset({PortType.IMAGE}),
    PortType.ANY: frozenset(PortType),
}


def accepts(input_type: PortType, output_type: PortType) -> bool:
    """Whether an edge from an output of `output_type` may feed `input_type`."""
    if output_type in (input_type, PortType.ANY):
        return True
    return output_type in _ACCEPTS[input_type]


@dataclass(frozen=True, slots=True)
class Port:
    """One input or output of a node.

    An input port may be backed by the config field of the same name: then it
    is satisfied either by an edge or by a value set in the config, and an edge
    wins over the config value.
    """

    name: str
    type: PortType
    required: bool = True
    config_fallback: bool = False
    description: str = ""


def not_given(value: Any) -> bool:
    """Whether a value counts as missing: None, or text that is empty or only spaces.

    The one rule for required values everywhere: a trigger field (the published API, the
    CLI's inputs, a batch row) and a node's config fallback (the editor's validation)."""
    return value is None or (isinstance(value, str) and not value.strip())
