"""The node types Plait knows, by type name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from plait.nodes.base import NodeType

AnyNodeType = NodeType[Any]


class Registry:
    def __init__(self, node_types: Iterable[AnyNodeType]):
        self._types: dict[str, AnyNodeType] = {}
        for node_type in node_types:
            if node_type.type in self._types:
                raise ValueError(f"node type '{node_type.type}' is registered twice")
            self._types[node_type.type] = node_type

    def get(self, type_name: str) -> AnyNodeType | None:
        return self._types.get(type_name)

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._types

    def __iter__(self) -> Iterator[AnyNodeType]:
        return iter(self._types.values())

    def names(self) -> list[str]:
        return sorted(self._types)


def builtin() -> Registry:
    """The node types Plait ships. Imported here, not at the top: the engine sees node types
    only through `Registry` and `NodeType`, never a concrete one."""
    from plait.nodes.file_input import FileInput
    from plait.nodes.http_trigger import HttpTrigger
    from plait.nodes.image import Image
    from plait.nodes.image_resize import ImageResize
    from plait.nodes.image_url import ImageUrl
    from plait.nodes.respond import Respond
    from plait.nodes.text import Text
    from plait.nodes.text_overlay import TextOverlay

    return Registry(
        [
            HttpTrigger(),
            FileInput(),
            ImageUrl(),
            Text(),
            Image(),
            ImageResize(),
            TextOverlay(),
            Respond(),
        ]
    )


__all__ = ["AnyNodeType", "Registry", "builtin"]
