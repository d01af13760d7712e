"""What a run and each of its nodes did: status, timing, values, usage, errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from plait.providers.base import Usage


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NodeStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass
class NodeState:
    node_id: str
    node_type: str
    status: NodeStatus = NodeStatus.PENDING
    started_at: float | None = None
    finished_at: float | None = None
    duration_ms: float | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    backend: str | None = None
    cache_hit: bool = False
    error: str | None = None
    error_port: str | None = None
    error_category: str | None = None  # an `errors.Category` value: whose move it is
    retry_after: float | None = None  # seconds the provider asked callers to wait


@dataclass
class RunResult:
    run_id: str
    status: RunStatus
    nodes: dict[str, NodeState]
    terminal: list[str]
    error: str | None = None
    failed_node: str | None = None
    duration_ms: float = 0.0

    @property
    def failure(self) -> NodeState | None:
        """The failed node's state, whose error ended the run."""
        return None if self.failed_node is None else self.nodes.get(self.failed_node)

    @property
    def usage(self) -> Usage:
        return sum((n.usage for n in self.nodes.values()), Usage())

    def response(self) -> dict[str, Any] | None:
        """The Respond node's response, if the flow has one that ran."""
        for state in self.nodes.values():
            if state.node_type == "respond" and state.status == NodeStatus.SUCCEEDED:
                response: dict[str, Any] = state.outputs["response"]
                return response
        return None

    def result(self) -> Any:
        """The run's answer: the Respond node's body (or image), else every terminal output."""
        response = self.response()
        if response is not None:
            return response["body"] if response["mode"] == "json" else response["image"]
        return {node_id: self.nodes[node_id].outputs for node_id in self.terminal}
