"""What a node type is, and the context the engine hands a running node.

A node type is one module: a pydantic config model, its ports (which may
depend on the config), display metadata and one async `run`.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel

from plait.flows.ports import Port, not_given
from plait.media.files import FlowFiles
from plait.media.image_ref import ImageRef
from plait.net.client import GuardedClient
from plait.providers.base import ImageProvider, Usage

C = TypeVar("C", bound=BaseModel)


class NodeContext(Protocol):
    """Services the engine gives a running node. Nodes see nothing else of the engine."""

    node_id: str
    run_inputs: Mapping[str, Any]
    flow_dir: Path | None
    files: FlowFiles  # the files this run may read (`plait.media.files.allowed_roots`)

    async def load_blob(self, sha256: str) -> bytes: ...

    async def store_image(self, data: bytes) -> ImageRef: ...

    async def make_image(self, make: Callable[[], bytes]) -> ImageRef:
        """Run CPU-bound `make` off the event loop and store the image it returns."""
        ...

    def image_provider(self) -> ImageProvider: ...

    def record_usage(self, usage: Usage, backend: str) -> None: ...

    def http_client(self) -> GuardedClient:
        """The guarded client: the only way a node may make an HTTP request."""
        ...


class NodeType(ABC, Generic[C]):
    """Base of every node type. Subclasses set the class variables and `run`."""

    type: ClassVar[str]
    title: ClassVar[str]
    category: ClassVar[str]
    description: ClassVar[str]
    version: ClassVar[int] = 1
    is_trigger: ClassVar[bool] = False
    cacheable: ClassVar[bool] = True
    # calls a service outside Plait (a paid model, a URL): its run is recorded before it starts
    reaches_out: ClassVar[bool] = False
    uses_image_provider: ClassVar[bool] = False  # its result depends on the backend
    config_model: builtins.type[C]

    def parse_config(self, raw: Mapping[str, Any]) -> C:
        return self.config_model.model_validate(raw)

    def inputs(self, config: C) -> list[Port]:
        return []

    @abstractmethod
    def outputs(self, config: C) -> list[Port]: ...

    def config_value(self, config: C, port: str) -> Any:
        """The config value backing an input port with `config_fallback`, or None if unset."""
        value = getattr(config, port, None)
        return None if not_given(value) else value

    def warnings(self, config: C) -> list[tuple[str, str]]:
        """(field, message) pairs worth a user's attention that do not stop a run
        (a deprecated model); `plait validate` and the canvas show them."""
        return []

    def cache_salt(self, config: C, files: FlowFiles) -> str:
        """What the result depends on beyond config and inputs (e.g. a file's mtime)."""
        return ""

    def bundle_files(self, config: dict[str, Any], blob_of: Callable[[str], str]) -> dict[str, Any]:
        """The raw config with each local file it names replaced by `blob_of(path)`, the id
        of a stored copy: a document that runs where the files are not (a flow template
        handed out by the server)."""
        return config

    @abstractmethod
    async def run(self, ctx: NodeContext, config: C, inputs: dict[str, Any]) -> dict[str, Any]:
        """Compute the outputs from the config and the inputs (edges or config fallbacks).

        Templates in `config` have already been rendered by the engine.
        """

    def describe(self) -> dict[str, Any]:
        """Metadata and the config's JSON schema, for the API and the canvas."""
        return {
            "type": self.type,
            "title": self.title,
            "category": self.category,
            "description": self.description,
            "version": self.version,
            "is_trigger": self.is_trigger,
            "config_schema": self.config_model.model_json_schema(),
        }


def file_as_blob(entry: dict[str, Any], key: str, blob_of: Callable[[str], str]) -> dict[str, Any]:
    """`entry` with the file path under `key` (if any) replaced by `blob`: its copy's id."""
    path = entry.get(key)
    if not isinstance(path, str) or not path:
        return entry
    rest = {k: v for k, v in entry.items() if k != key}
    return {**rest, "blob": blob_of(path)}


class InstantNodeType(NodeType[C]):
    """A node type whose work is synchronous and quick (no I/O, no threads, no waiting):
    the engine runs it in place with `run_now`, without a task of its own."""

    @abstractmethod
    def run_now(self, ctx: NodeContext, config: C, inputs: dict[str, Any]) -> dict[str, Any]:
        """`run`, synchronously."""

    async def run(self, ctx: NodeContext, config: C, inputs: dict[str, Any]) -> dict[str, Any]:
        return self.run_now(ctx, config, inputs)
