"""Small graph helpers over `{node: {nodes it depends on}}` maps."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Set


def find_cycle(graph: Mapping[str, Set[str]]) -> list[str]:
    """One cycle as a list of nodes, or [] when the graph is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            nxt = todo.pop(0)
            if state.get(nxt) == 1:
                return path[path.index(nxt) :]
            if not state.get(nxt) and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(graph[nxt])))
    return []


def topological_order(graph: Mapping[str, Set[str]]) -> list[str]:
    """Dependencies first, ties kept in the graph's own order (the graph must be acyclic)."""
    waiting = {node: len(deps & graph.keys()) for node, deps in graph.items()}
    dependents: dict[str, list[str]] = {node: [] for node in graph}
    for node, deps in graph.items():
        for dep in deps & graph.keys():
            dependents[dep].append(node)
    ready = deque(node for node, count in waiting.items() if count == 0)
    order: list[str] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for child in dependents[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return order


def ancestors(graph: Mapping[str, Set[str]], node: str) -> set[str]:
    """Every node `node` depends on, directly or through others (not `node` itself)."""
    found: set[str] = set()
    todo = list(graph.get(node, ()))
    while todo:
        dep = todo.pop()
        if dep in found or dep == node:
            continue
        found.add(dep)
        todo.extend(graph.get(dep, ()))
    return found
