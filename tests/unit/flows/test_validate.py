import json

import pytest

from plait.errors import FlowInvalid, Problem
from plait.flows.loader import load_flow
from plait.flows.validate import compile_flow, validate
from plait.nodes.registry import builtin
from tests.helpers import EXAMPLES, flow, node

REGISTRY = builtin()
TRIGGER = node("trigger", "http_trigger", fields=[{"name": "prompt"}])


def problems_of(f: object) -> list[Problem]:
    return validate(f, REGISTRY)  # type: ignore[arg-type]


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_example_flows_are_valid(path: object) -> None:
    assert problems_of(load_flow(path)) == []  # type: ignore[arg-type]


def test_unknown_node_type() -> None:
    p = only(problems_of(flow([node("x", "teleport")])))
    assert p.node_id == "x"
    assert "unknown node type 'teleport'" in str(p)
    assert "image_resize" in str(p)  # lists the known types


def test_duplicate_node_id() -> None:
    p = only(problems_of(flow([node("a", "text"), node("a", "text")])))
    assert p.node_id == "a"
    assert "duplicate node id" in str(p)


def test_edge_from_missing_node() -> None:
    f = flow([node("r", "respond")], [("ghost.image", "r.image")])
    p = only(problems_of(f))
    assert p.node_id == "ghost"
    assert "does not exist" in str(p)


def test_edge_to_missing_port() -> None:
    f = flow(
        [TRIGGER, node("r", "respond", fields=[{"name": "x", "value": "1"}])],
        [("trigger.prompt", "r.nope")],
    )
    p = only(problems_of(f))
    assert (p.node_id, p.port) == ("r", "nope")
    assert "no input port of that name (its inputs: x)" in str(p)


def test_edge_from_missing_output_port() -> None:
    f = flow([TRIGGER, node("r", "respond", fields=[{"name": "x"}])], [("trigger.missing", "r.x")])
    p = only(problems_of(f))
    assert (p.node_id, p.port) == ("trigger", "missing")
    assert "its outputs: prompt" in str(p)


def test_edge_whose_port_types_do_not_fit() -> None:
    f = flow(
        [TRIGGER, node("resize", "image_resize", width=10), node("r", "respond")],
        [("trigger.prompt", "resize.image"), ("resize.image", "r.image")],
    )
    p = only(problems_of(f))
    assert (p.node_id, p.port) == ("resize", "image")
    assert "an image input cannot take trigger.prompt (a text output)" in str(p)


def test_two_edges_into_one_input() -> None:
    f = flow(
        [TRIGGER, node("t", "text", template="x"), node("img", "image")],
        [("trigger.prompt", "img.prompt"), ("t.text", "img.prompt")],
    )
    p = only(problems_of(f))
    assert (p.node_id, p.port) == ("img", "prompt")
    assert "already connected from trigger.prompt" in str(p)


def test_cycle() -> None:
    f = flow(
        [node("a", "image_resize", width=5), node("b", "image_resize", width=5)],
        [("a.image", "b.image"), ("b.image", "a.image")],
    )
    p = only(problems_of(f))
    assert "cycle" in str(p)
    assert "a -> b -> a" in str(p)


def test_cycle_through_a_template_reference() -> None:
    f = flow(
        [node("a", "text", template="{{ b.text }}"), node("b", "text", template="{{ a.text }}")]
    )
    assert "cycle" in str(only(problems_of(f)))


def test_required_input_neither_connected_nor_set() -> None:
    f = flow([node("img", "image"), node("resize", "image_resize", width=10)])
    found = {(p.node_id, p.port): str(p) for p in problems_of(f)}
    assert set(found) == {("img", "prompt"), ("resize", "image")}
    assert "connect an edge to it or set it in the config" in found[("img", "prompt")]
    assert found[("resize", "image")].endswith("required input is not set: connect an edge to it")


def test_required_input_satisfied_by_config_value() -> None:
    assert problems_of(flow([node("img", "image", prompt="a red apple")])) == []


@pytest.mark.parametrize(
    ("config", "field", "fragment"),
    [
        (
            {"prompt": "x", "model": "gemini-2.5-flash-image", "aspect_ratio": "8:1"},
            "aspect_ratio",
            "does not offer aspect ratio '8:1'",
        ),
        (
            {"prompt": "x", "model": "gemini-2.5-flash-image", "image_size": "2K"},
            "image_size",
            "has no size choice",
        ),
        (
            {"prompt": "x", "model": "gemini-3-pro-image", "image_size": "512"},
            "image_size",
            "choose one of 1K, 2K, 4K",
        ),
        ({"prompt": "x", "model": "dall-e"}, "model", "unknown model 'dall-e'"),
        (
            {"prompt": "x", "model": "gemini-nano-banana-2.1", "image_size": "512"},
            "image_size",
            "gemini-nano-banana-2.1 does not offer size '512'; choose one of 1K, 2K, 4K",
        ),
        (
            {"prompt": "x", "model": "gemini-3.1-flash-image"},
            "model",
            "gemini-3.1-flash-image was shut down by Google on 2026-10-29 and no longer runs; "
            "switch the node to its successor, gemini-nano-banana-2.1",
        ),
        ({"prompt": "x", "number_of_images": 0}, "number_of_images", "greater than or equal to 1"),
        (
            {
                "prompt": "x",
                "model": "gemini-2.5-flash-image",
                "references": [{"port": f"r{i}", "file": "a.png"} for i in range(4)],
            },
            "references",
            "takes at most 3 reference images; this node has 4",
        ),
    ],
)
def test_invalid_config_value(config: dict[str, object], field: str, fragment: str) -> None:
    p = only(problems_of(flow([node("img", "image", **config)])))
    assert (p.node_id, p.field) == ("img", field)
    assert fragment in str(p)
    assert str(p).startswith(f"node 'img', field '{field}': ")


def test_nested_config_error_names_the_nested_field() -> None:
    f = flow([node("o", "text_overlay", layers=[{"text": "hi", "size": -3}])])
    problems = [p for p in problems_of(f) if p.field]
    assert problems[0].field == "layers.0.size"


def test_template_problems() -> None:
    f = flow(
        [
            TRIGGER,
            node("img", "image", prompt="{{ trigger.prompt }}"),
            node("a", "text", template="{{ nobody.text }}"),
            node("b", "text", template="{{ trigger.nothing }}"),
            node("c", "text", template="{{ img.image }}"),
            node("d", "text", template="{{ d.text }}"),
            node("e", "text", template="{{ eval('1') }}"),
        ]
    )
    found = {p.node_id: str(p) for p in problems_of(f)}
    assert set(found) == {"a", "b", "c", "d", "e"}
    assert "node 'nobody' that does not exist" in found["a"]
    assert "has no output 'nothing' (its outputs: prompt)" in found["b"]
    assert "is an image" in found["c"]
    assert "this node itself" in found["d"]
    assert "is not a reference" in found["e"]
    assert found["a"].startswith("node 'a', field 'template': ")


def test_every_problem_is_reported_at_once() -> None:
    f = flow(
        [node("a", "teleport"), node("b", "text"), node("b", "text"), node("img", "image")],
        [("ghost.x", "img.resize_me")],
    )
    found = [(p.node_id, p.port) for p in problems_of(f)]
    # unknown type, duplicate id, missing edge source, and the unset prompt
    assert found == [
        ("a", None),
        ("b", None),
        ("ghost", None),
        ("img", "resize_me"),
        ("img", "prompt"),
    ]


def test_compile_raises_flow_invalid_with_the_problems() -> None:
    with pytest.raises(FlowInvalid) as info:
        compile_flow(flow([node("a", "teleport")]), REGISTRY)
    assert [p.node_id for p in info.value.problems] == ["a"]


def test_compiled_flow_orders_nodes_and_records_dependencies() -> None:
    compiled = compile_flow(load_flow(EXAMPLES / "social-card.json"), REGISTRY)
    order = list(compiled.nodes)
    assert order.index("photo") < order.index("edit") < order.index("card") < order.index("respond")
    assert compiled.nodes["edit"].depends_on == {"photo", "trigger"}  # edge + template
    assert compiled.nodes["respond"].depends_on == {"card", "trigger"}
    assert [t.id for t in compiled.triggers] == ["trigger"]


def test_problem_lines_are_json_safe_strings() -> None:
    for p in problems_of(flow([node("a", "teleport")])):
        json.dumps(str(p))
