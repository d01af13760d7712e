"""The services a run uses, and the per-node context handed to `NodeType.run`."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plait.engine.state import NodeState
from plait.media.blobs import BlobStore, make_image, put_image
from plait.media.files import FlowFiles, allowed_roots
from plait.media.image_ref import ImageRef
from plait.net.client import GuardedClient
from plait.providers.base import ImageProvider, Usage

# The node whose task is running (set by the executor): lets a provider file its calls by
# node, as Batch API mode does when it stores which row and node each request is for.
CURRENT_NODE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "plait_current_node", default=None
)


@dataclass
class Services:
    blobs: BlobStore
    image_provider: Callable[[], ImageProvider]
    flow_dir: Path | None = None
    http: GuardedClient = field(default_factory=GuardedClient)
    allow_dirs: tuple[Path, ...] = ()  # more folders a flow may read files from (CLI)

    @property
    def files(self) -> FlowFiles:
        return allowed_roots(self.flow_dir, self.allow_dirs)


class NodeRunContext:
    """Implements `plait.nodes.base.NodeContext` for one node of one run."""

    __slots__ = ("_services", "_state", "files", "flow_dir", "node_id", "run_inputs")

    def __init__(self, services: Services, state: NodeState, run_inputs: Mapping[str, Any]):
        self._services = services
        self._state = state
        self.node_id = state.node_id
        self.run_inputs = run_inputs
        self.flow_dir = services.flow_dir
        self.files = services.files

    async def load_blob(self, sha256: str) -> bytes:
        return await self._services.blobs.get(sha256)

    async def store_image(self, data: bytes) -> ImageRef:
        return await put_image(self._services.blobs, data)

    async def make_image(self, make: Callable[[], bytes]) -> ImageRef:
        return await make_image(self._services.blobs, make)

    def image_provider(self) -> ImageProvider:
        return self._services.image_provider()

    def record_usage(self, usage: Usage, backend: str) -> None:
        self._state.usage = self._state.usage + usage
        self._state.backend = backend

    def http_client(self) -> GuardedClient:
        return self._services.http
