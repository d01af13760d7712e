"""Differences between two flow documents, node by node (for version history)."""

from __future__ import annotations

from typing import Any

from plait.flows.model import Flow


def diff_flows(a: Flow, b: Flow) -> dict[str, Any]:
    """Nodes added, removed and changed (with each changed path), and edges added and removed."""
    nodes_a = {n.id: n.model_dump(mode="json", exclude={"position"}) for n in a.nodes}
    nodes_b = {n.id: n.model_dump(mode="json", exclude={"position"}) for n in b.nodes}
    changed = [
        {"id": node_id, "changes": changes}
        for node_id in sorted(nodes_a.keys() & nodes_b.keys())
        if (changes := _changes(nodes_a[node_id], nodes_b[node_id], ""))
    ]
    edges_a = {f"{e.source}->{e.target}" for e in a.edges}
    edges_b = {f"{e.source}->{e.target}" for e in b.edges}
    return {
        "nodes": {
            "added": sorted(nodes_b.keys() - nodes_a.keys()),
            "removed": sorted(nodes_a.keys() - nodes_b.keys()),
            "changed": changed,
        },
        "edges": {"added": sorted(edges_b - edges_a), "removed": sorted(edges_a - edges_b)},
    }


def _changes(before: Any, after: Any, path: str) -> list[dict[str, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[dict[str, Any]] = []
        for key in sorted(before.keys() | after.keys(), key=str):
            sub = f"{path}.{key}" if path else str(key)
            found += _changes(before.get(key), after.get(key), sub)
        return found
    if before == after:
        return []
    return [{"path": path, "before": before, "after": after}]
