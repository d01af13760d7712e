"""The flow document: nodes, edges and a format version (docs/flow-format.md)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from plait.textlimits import LongText, Name


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)

FORMAT_VERSION = 1
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
ENDPOINT_PATTERN = rf"^{NAME_PATTERN}\.{NAME_PATTERN}$"
FLOW_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: float = 0
    y: float = 0


class NodeSpec(BaseModel):
    """One node: a stable id chosen at creation, its type, config and canvas position."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=rf"^{NAME_PATTERN}$")
    type: str
    label: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    position: Position = Field(default_factory=Position)


class Endpoint(BaseModel):
    node: str
    port: str

    def __str__(self) -> str:
        return f"{self.node}.{self.port}"


class Edge(BaseModel):
    """An edge from an output port to an input port, each written `node.port`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    source: str = Field(alias="from", pattern=ENDPOINT_PATTERN)
    target: str = Field(alias="to", pattern=ENDPOINT_PATTERN)

    @property
    def from_(self) -> Endpoint:
        return _endpoint(self.source)

    @property
    def to(self) -> Endpoint:
        return _endpoint(self.target)


def unique_names(items: list[T]) -> list[T]:
    """A validator body: `items` unchanged, or ValueError naming the repeated `.name`s."""
    names = [item.name for item in items]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"field names must be unique; repeated: {', '.join(dupes)}")
    return items


def _endpoint(text: str) -> Endpoint:
    node, port = text.split(".", 1)
    return Endpoint(node=node, port=port)


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal[1] = 1
    # The server's flow this file is: `plait flows push` updates it (and creates it with
    # this id where it does not exist). Not part of a stored version's content.
    id: str | None = Field(default=None, pattern=FLOW_ID_PATTERN)
    name: Name = ""
    description: LongText = ""
    nodes: list[NodeSpec] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)

    def node(self, node_id: str) -> NodeSpec:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(
            mode="json", by_alias=True, exclude={"id"} if self.id is None else None
        )

    def without_id(self) -> Flow:
        """The content a version stores: the flow's id is the server's, not the document's."""
        return self if self.id is None else self.model_copy(update={"id": None})

    def canonical_json(self) -> str:
        """Key-sorted, compact JSON: equal flows give equal bytes."""
        return json.dumps(self.to_document(), sort_keys=True, separators=(",", ":"))

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()
