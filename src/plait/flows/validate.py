"""Checking a flow against the node types, and compiling it into what the executor runs.

`compile_flow` reports every problem at once (FlowInvalid.problems), each naming
its node and port, so `plait validate` and the canvas can show them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from plait.errors import FlowInvalid, PlaitError, Problem
from plait.flows.graph import find_cycle, topological_order
from plait.flows.model import Endpoint, Flow, NodeSpec
from plait.flows.ports import Port, PortType, accepts
from plait.flows.template import Reference, TemplateSyntaxError, references, templates_in

if TYPE_CHECKING:
    from plait.nodes.registry import AnyNodeType, Registry

_NOT_IN_TEXT = (PortType.IMAGE, PortType.IMAGE_LIST)


@dataclass
class CompiledNode:
    spec: NodeSpec
    node_type: AnyNodeType
    config: BaseModel
    inputs: dict[str, Port]
    outputs: dict[str, Port]
    wires: dict[str, Endpoint] = field(default_factory=dict)
    miswired: set[str] = field(default_factory=set)  # inputs whose edge was reported
    references: list[Reference] = field(default_factory=list)
    warnings: tuple[str, ...] = ()  # NodeType.warnings, recorded on each run's node row

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def depends_on(self) -> set[str]:
        return {e.node for e in self.wires.values()} | {r.node for r in self.references}


@dataclass
class CompiledFlow:
    flow: Flow
    nodes: dict[str, CompiledNode]  # in a topological order
    dependents: dict[str, list[str]]

    @cached_property
    def digest(self) -> str:
        """The document's content hash (computed once: a compiled flow is not changed)."""
        return self.flow.content_hash()

    @cached_property
    def reaches_out(self) -> bool:
        """Whether a node calls a service outside Plait (see `NodeType.reaches_out`)."""
        return any(n.node_type.reaches_out for n in self.nodes.values())

    @cached_property
    def triggers(self) -> list[CompiledNode]:
        return [n for n in self.nodes.values() if n.node_type.is_trigger]


PortLists = tuple[list[Port], list[Port]]


def compile_flow(flow: Flow, registry: Registry) -> CompiledFlow:
    """The runnable form of `flow`; raises FlowInvalid listing every problem."""
    nodes, graph, problems = _analyse(flow, registry)
    if problems:
        raise FlowInvalid(problems)
    order = topological_order(graph)
    dependents: dict[str, list[str]] = {node_id: [] for node_id in order}
    for node_id in order:
        for dep in sorted(graph[node_id]):
            dependents[dep].append(node_id)
    return CompiledFlow(flow, {i: nodes[i] for i in order}, dependents)


def validate_with_ports(
    flow: Flow, registry: Registry
) -> tuple[list[Problem], dict[str, PortLists]]:
    """Every problem, and the ports of each node whose config is valid (for the canvas)."""
    nodes, _, problems = _analyse(flow, registry)
    ports = {n.id: (list(n.inputs.values()), list(n.outputs.values())) for n in nodes.values()}
    return problems, ports


def _analyse(
    flow: Flow, registry: Registry
) -> tuple[dict[str, CompiledNode], dict[str, set[str]], list[Problem]]:
    problems: list[Problem] = []
    nodes = _compile_nodes(flow, registry, problems)
    _wire_edges(flow, nodes, problems)
    _collect_references(nodes, problems)
    _check_required(nodes, problems)
    graph = {n.id: n.depends_on & nodes.keys() for n in nodes.values()}
    cycle = find_cycle(graph)
    if cycle:
        path = " -> ".join([*cycle, cycle[0]])
        problems.append(Problem(f"is part of a cycle: {path}", node_id=cycle[0]))
    return nodes, graph, problems


def validate(flow: Flow, registry: Registry) -> list[Problem]:
    try:
        compile_flow(flow, registry)
    except FlowInvalid as invalid:
        return invalid.problems
    return []


def warnings(flow: Flow, registry: Registry) -> list[Problem]:
    """What does not stop `flow` from running but deserves a look (a deprecated model),
    for each node whose config is valid."""
    found: list[Problem] = []
    for spec in flow.nodes:
        node_type = registry.get(spec.type)
        if node_type is None:
            continue
        try:
            config = node_type.parse_config(spec.config)
        except (ValidationError, PlaitError):
            continue  # a problem, reported by `validate`
        found += [Problem(m, node_id=spec.id, field=f) for f, m in node_type.warnings(config)]
    return found


def _compile_nodes(
    flow: Flow, registry: Registry, problems: list[Problem]
) -> dict[str, CompiledNode]:
    nodes: dict[str, CompiledNode] = {}
    seen: set[str] = set()
    for spec in flow.nodes:
        if spec.id in seen:
            problems.append(Problem("duplicate node id; node ids must be unique", node_id=spec.id))
            continue
        seen.add(spec.id)
        compiled = _compile_node(spec, registry, problems)
        if compiled is not None:
            nodes[spec.id] = compiled
    return nodes


def _compile_node(
    spec: NodeSpec, registry: Registry, problems: list[Problem]
) -> CompiledNode | None:
    node_type = registry.get(spec.type)
    if node_type is None:
        known = ", ".join(registry.names())
        problems.append(
            Problem(f"unknown node type '{spec.type}'; known types: {known}", node_id=spec.id)
        )
        return None
    try:
        config = node_type.parse_config(spec.config)
    except ValidationError as exc:
        problems.extend(config_problems(spec.id, exc))
        return None
    except PlaitError as exc:
        problems.append(Problem(exc.message, node_id=spec.id))
        return None
    inputs = {p.name: p for p in node_type.inputs(config)}
    outputs = {p.name: p for p in node_type.outputs(config)}
    warned = tuple(message for _, message in node_type.warnings(config))
    return CompiledNode(spec, node_type, config, inputs, outputs, warnings=warned)


def config_problems(node_id: str, exc: ValidationError) -> Iterable[Problem]:
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or None
        message = error["msg"].removeprefix("Value error, ")
        yield Problem(message, node_id=node_id, field=path)


def _wire_edges(flow: Flow, nodes: dict[str, CompiledNode], problems: list[Problem]) -> None:
    known_ids = {spec.id for spec in flow.nodes}
    for edge in flow.edges:
        source, target = edge.from_, edge.to
        out = _port(source, "output", nodes, known_ids, problems, lambda n: n.outputs)
        inp = _port(target, "input", nodes, known_ids, problems, lambda n: n.inputs)
        if inp is None or out is None:
            if target.node in nodes:
                nodes[target.node].miswired.add(target.port)
            continue
        wires = nodes[target.node].wires
        if target.port in wires:
            problems.append(
                Problem(
                    f"already connected from {wires[target.port]}; an input takes one edge",
                    node_id=target.node,
                    port=target.port,
                )
            )
        elif not accepts(inp.type, out.type):
            nodes[target.node].miswired.add(target.port)
            problems.append(
                Problem(
                    f"{_a(inp.type)} input cannot take {source} ({_a(out.type)} output)",
                    node_id=target.node,
                    port=target.port,
                )
            )
        else:
            wires[target.port] = source


def _port(
    end: Endpoint,
    side: str,
    nodes: dict[str, CompiledNode],
    known_ids: set[str],
    problems: list[Problem],
    ports: Any,
) -> Port | None:
    if end.node not in known_ids:
        problems.append(
            Problem(f"an edge's {side} names a node that does not exist", node_id=end.node)
        )
        return None
    node = nodes.get(end.node)
    if node is None:  # the node itself is invalid and already reported
        return None
    port: Port | None = ports(node).get(end.port)
    if port is None:
        have = ", ".join(ports(node)) or "none"
        problems.append(
            Problem(
                f"no {side} port of that name (its {side}s: {have})",
                node_id=end.node,
                port=end.port,
            )
        )
    return port


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _collect_references(nodes: dict[str, CompiledNode], problems: list[Problem]) -> None:
    for node in nodes.values():
        for path, text in templates_in(node.config):
            try:
                refs = references(text)
            except TemplateSyntaxError as exc:
                problems.append(Problem(str(exc), node_id=node.id, field=path))
                continue
            for ref in refs:
                problem = _reference_problem(node, ref, nodes)
                if problem:
                    problems.append(Problem(problem, node_id=node.id, field=path))
                else:
                    node.references.append(ref)


def _reference_problem(node: CompiledNode, ref: Reference, nodes: dict[str, CompiledNode]) -> str:
    source = nodes.get(ref.node)
    if ref.node == node.id:
        return f"'{{{{ {ref} }}}}' refers to this node itself"
    if source is None:
        return f"'{{{{ {ref} }}}}' refers to a node '{ref.node}' that does not exist"
    port = source.outputs.get(ref.port)
    if port is None:
        have = ", ".join(source.outputs) or "none"
        return (
            f"'{{{{ {ref} }}}}': node '{ref.node}' has no output '{ref.port}' (its outputs: {have})"
        )
    if port.type in _NOT_IN_TEXT:
        return f"'{{{{ {ref} }}}}' is an image; connect it to an image input instead"
    return ""


def _check_required(nodes: dict[str, CompiledNode], problems: list[Problem]) -> None:
    for node in nodes.values():
        for port in node.inputs.values():
            if not port.required or port.name in node.wires or port.name in node.miswired:
                continue
            if port.config_fallback and node.node_type.config_value(node.config, port.name):
                continue
            how = "connect an edge to it" + (
                " or set it in the config" if port.config_fallback else ""
            )
            problems.append(
                Problem(f"required input is not set: {how}", node_id=node.id, port=port.name)
            )
