"""Values as API callers see them: images become absolute, signed, expiring links."""

from __future__ import annotations

from typing import Any

from plait.crypto.signing import LinkSigner
from plait.engine.values import from_json, images_in, map_images
from plait.media.image_ref import ImageRef
from plait.store.tables import NodeRun, Run


class Presenter:
    def __init__(self, links: LinkSigner, origin: str):
        self.links = links
        self.origin = origin

    def url(self, image: ImageRef) -> str:
        return f"{self.origin}/files/{image.sha256}?{self.links.query(image.sha256)}"

    def public(self, value: Any) -> Any:
        """For trigger callers: each image is just its URL."""
        return map_images(value, self.url)

    def annotated(self, stored: Any) -> Any:
        """For the editor: a stored JSON value with each image's reference and URL."""
        return map_images(from_json(stored), lambda ref: {**ref.to_json(), "url": self.url(ref)})

    def run_summary(self, run: Run) -> dict[str, Any]:
        found = images_in(from_json(run.result))
        return {
            "id": run.id,
            "flow_id": run.flow_id,
            "flow_version": run.flow_version,
            "source": run.source,
            "status": run.status,
            "created_at": run.created_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "duration_ms": run.duration_ms,
            "cost_usd": run.cost_usd,
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "backend": run.backend,
            "error": run.error,
            "failed_node": run.failed_node,
            "error_category": run.error_category,  # errors.Category: whose move it is
            "thumbnail": self.url(found[0]) if found else None,
        }

    def run_detail(self, run: Run, nodes: list[NodeRun]) -> dict[str, Any]:
        return {
            **self.run_summary(run),
            "inputs": self.annotated(run.inputs),
            "result": self.annotated(run.result),
            "nodes": [self.node_run(n) for n in nodes],
        }

    def node_run(self, node: NodeRun) -> dict[str, Any]:
        return {
            "node_id": node.node_id,
            "node_type": node.node_type,
            "status": node.status,
            "inputs": self.annotated(node.inputs),
            "outputs": self.annotated(node.outputs),
            "backend": node.backend,
            "input_tokens": node.input_tokens,
            "output_tokens": node.output_tokens,
            "cost_usd": node.cost_usd,
            "cache_hit": node.cache_hit,
            "error": node.error,
            "error_port": node.error_port,
            "started_at": node.started_at,
            "finished_at": node.finished_at,
            "duration_ms": node.duration_ms,
        }
