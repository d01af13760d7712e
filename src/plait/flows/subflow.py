"""Part of a compiled flow: a node and everything it depends on ("Run to here")."""

from __future__ import annotations

from plait.errors import InputError
from plait.flows.graph import ancestors
from plait.flows.validate import CompiledFlow


def up_to(compiled: CompiledFlow, node_id: str) -> CompiledFlow:
    """The flow cut down to `node_id` and its ancestors (through edges and template
    references), so running it computes that node and only what it needs. Nodes keep their
    compiled form; the document keeps the same nodes and the edges between them."""
    if node_id not in compiled.nodes:
        have = ", ".join(compiled.nodes) or "none"
        raise InputError(
            f"cannot run up to '{node_id}': the flow has no such node (its nodes: {have})",
            node_id=node_id,
        )
    graph = {n.id: n.depends_on for n in compiled.nodes.values()}
    keep = ancestors(graph, node_id) | {node_id}
    flow = compiled.flow
    document = flow.model_copy(
        update={
            "nodes": [n for n in flow.nodes if n.id in keep],
            "edges": [e for e in flow.edges if e.from_.node in keep and e.to.node in keep],
        }
    )
    nodes = {i: n for i, n in compiled.nodes.items() if i in keep}
    dependents = {i: [d for d in compiled.dependents[i] if d in keep] for i in nodes}
    return CompiledFlow(document, nodes, dependents)


def kept_trigger(compiled: CompiledFlow, trigger_id: str | None) -> str | None:
    """`trigger_id` when the cut flow still holds it, else None (the run needs no inputs
    from a trigger it does not reach)."""
    return trigger_id if trigger_id in compiled.nodes else None
