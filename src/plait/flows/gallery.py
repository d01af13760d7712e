"""The flow templates Plait ships (the Flows page's "New from template"), with their images.

The templates live in `templates/` next to this module, inside the package: JSON flow
documents whose files (`images/…`) are named relative to that folder, so `plait run` works
on them as they are. A server cannot rely on a folder the run does not know, so it hands
them out self-contained: each file a template names is stored as a blob and named by its
id instead (`bundled`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plait.media.files import read_image_file

if TYPE_CHECKING:
    from plait.nodes.registry import Registry

FOLDER = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class FlowTemplate:
    id: str
    name: str
    description: str
    document: dict[str, Any]


def flow_templates(folder: Path = FOLDER) -> list[FlowTemplate]:
    """Every template in `folder`, by file name."""
    found = []
    for path in sorted(folder.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        name = document.get("name") or path.stem
        found.append(FlowTemplate(path.stem, name, document.get("description", ""), document))
    return found


def bundled(
    document: dict[str, Any], registry: Registry, folder: Path = FOLDER
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The document with every file it names replaced by a blob id, and those blobs' bytes
    by id (the SHA-256 of the bytes, as the blob store names them). Reads files: call it
    off the event loop."""
    blobs: dict[str, bytes] = {}

    def blob_of(path: str) -> str:
        data = read_image_file(path, folder)
        sha256 = hashlib.sha256(data).hexdigest()
        blobs[sha256] = data
        return sha256

    nodes = []
    for node in document.get("nodes", []):
        node_type = registry.get(node.get("type", ""))
        config = node.get("config") or {}
        if node_type is not None:
            node = {**node, "config": node_type.bundle_files(config, blob_of)}
        nodes.append(node)
    return {**document, "nodes": nodes}, blobs
