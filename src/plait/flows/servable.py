"""Whether a flow version can serve as a published API, and if not, why.

Publishing (and rolling back, which publishes an older version) must never put an
endpoint live that cannot answer: a version serves when it is valid and has a trigger
to call it through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plait.errors import FlowInvalid, Problem
from plait.flows.model import Flow
from plait.flows.validate import validate

if TYPE_CHECKING:
    from plait.nodes.registry import Registry

NO_TRIGGER = (
    "a published flow is called through an HTTP Trigger, and this version has none: "
    "add one (Inputs → HTTP Trigger), wire it, save, then publish"
)


class NotServable(FlowInvalid):
    """A version that cannot be published; `problems` lists why (node, field, message)."""

    def __init__(self, version: int, problems: list[Problem]):
        super().__init__(problems)
        self.version = version
        self.detail = f"version {version} cannot be published: fix each problem listed"


def serving_problems(flow: Flow, registry: Registry) -> list[Problem]:
    """Every reason `flow` cannot serve; empty when it can."""
    problems = validate(flow, registry)
    if not any(_is_trigger(registry, node.type) for node in flow.nodes):
        problems.append(Problem(NO_TRIGGER))
    return problems


def check_servable(flow: Flow, version: int, registry: Registry) -> None:
    """Raises NotServable listing every problem unless `flow` can serve."""
    problems = serving_problems(flow, registry)
    if problems:
        raise NotServable(version, problems)


def _is_trigger(registry: Registry, type_name: str) -> bool:
    node_type = registry.get(type_name)
    return node_type is not None and node_type.is_trigger
