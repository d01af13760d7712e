"""Which versions can serve as a published API."""

from __future__ import annotations

import pytest

from plait.errors import FlowInvalid
from plait.flows.model import Flow
from plait.flows.servable import NO_TRIGGER, NotServable, check_servable, serving_problems
from plait.nodes.registry import builtin
from tests.helpers import flow, node

REGISTRY = builtin()


def test_an_empty_flow_cannot_serve_for_want_of_a_trigger() -> None:
    [problem] = serving_problems(Flow(), REGISTRY)
    assert (problem.node_id, problem.field, problem.message) == (None, None, NO_TRIGGER)


def test_problems_and_the_missing_trigger_are_listed_together() -> None:
    broken = flow([node("t", "text", template="{{ missing.text }}")], [])
    with pytest.raises(NotServable) as refused:
        check_servable(broken, 3, REGISTRY)
    assert isinstance(refused.value, FlowInvalid)
    assert refused.value.detail.startswith("version 3 cannot be published")
    assert [p.node_id for p in refused.value.problems] == ["t", None]


def test_a_valid_flow_with_a_trigger_serves() -> None:
    fine = flow([node("trigger", "http_trigger")], [])
    check_servable(fine, 1, REGISTRY)
    assert serving_problems(fine, REGISTRY) == []
