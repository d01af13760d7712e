"""Cutting a flow down to one node and what it depends on ("Run to here")."""

import pytest

from plait.errors import InputError
from plait.flows.graph import ancestors
from plait.flows.subflow import kept_trigger, up_to
from plait.flows.validate import compile_flow
from plait.nodes.registry import builtin
from tests.helpers import flow, node

REGISTRY = builtin()

# Through templates: trigger → upper → joined ← side; joined → tail; trigger → caption;
# lone depends on nothing.
TEXTS = {
    "upper": "{{ trigger.who }}!",
    "side": "side",
    "joined": "{{ upper.text }} and {{ side.text }}",
    "tail": "{{ joined.text }}",
    "caption": "by {{ trigger.who }}",
    "lone": "alone",
}
FLOW = flow(
    [
        node("trigger", "http_trigger", fields=[{"name": "who"}]),
        *(node(node_id, "text", template=text) for node_id, text in TEXTS.items()),
    ]
)


def test_ancestors_follow_every_path_and_leave_out_the_node_itself() -> None:
    graph = {"a": set(), "b": {"a"}, "c": {"b", "x"}, "x": set(), "d": {"c"}, "e": {"a"}}
    assert ancestors(graph, "d") == {"a", "b", "c", "x"}
    assert ancestors(graph, "a") == set()
    assert ancestors({"a": {"b"}, "b": {"a"}}, "a") == {"b"}  # a cycle ends


def test_up_to_keeps_the_node_and_its_ancestors_only() -> None:
    cut = up_to(compile_flow(FLOW, REGISTRY), "joined")
    assert list(cut.nodes) == [n for n in compile_flow(FLOW, REGISTRY).nodes if n in cut.nodes]
    assert set(cut.nodes) == {"trigger", "upper", "side", "joined"}
    assert [n.id for n in cut.flow.nodes] == ["trigger", "upper", "side", "joined"]
    assert cut.dependents["joined"] == []  # tail is gone
    assert cut.dependents["trigger"] == ["upper"]  # caption is gone
    assert cut.digest != compile_flow(FLOW, REGISTRY).digest


def test_up_to_keeps_edges_between_kept_nodes() -> None:
    f = flow(
        [
            node("trigger", "http_trigger", fields=[{"name": "who"}]),
            node("a", "respond", fields=[{"name": "who"}]),
            node("b", "respond", fields=[{"name": "who"}]),
        ],
        [("trigger.who", "a.who"), ("trigger.who", "b.who")],
    )
    cut = up_to(compile_flow(f, REGISTRY), "a")
    assert [(str(e.from_), str(e.to)) for e in cut.flow.edges] == [("trigger.who", "a.who")]
    assert set(cut.nodes) == {"trigger", "a"}
    # the cut flow is itself a valid flow
    assert set(compile_flow(cut.flow, REGISTRY).nodes) == {"trigger", "a"}


def test_up_to_a_node_without_dependencies_is_that_node_alone() -> None:
    cut = up_to(compile_flow(FLOW, REGISTRY), "lone")
    assert list(cut.nodes) == ["lone"]
    assert kept_trigger(cut, "trigger") is None
    assert kept_trigger(up_to(compile_flow(FLOW, REGISTRY), "caption"), "trigger") == "trigger"


def test_up_to_an_unknown_node_names_it_and_the_nodes_there_are() -> None:
    with pytest.raises(InputError) as caught:
        up_to(compile_flow(FLOW, REGISTRY), "nope")
    assert caught.value.node_id == "nope"
    assert "no such node" in str(caught.value)
    assert "trigger, " in str(caught.value)
