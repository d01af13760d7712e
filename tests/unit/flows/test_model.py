import pytest
from pydantic import ValidationError

from plait.flows.model import Flow
from tests.helpers import flow, node


def test_edges_read_from_and_to_endpoints() -> None:
    f = flow([node("a", "text"), node("b", "text")], [("a.text", "b.in")])
    edge = f.edges[0]
    assert (edge.from_.node, edge.from_.port, edge.to.node, edge.to.port) == (
        "a",
        "text",
        "b",
        "in",
    )
    assert f.to_document()["edges"] == [{"from": "a.text", "to": "b.in"}]


def test_content_hash_ignores_key_order_but_not_content() -> None:
    one = Flow.model_validate({"nodes": [{"id": "a", "type": "text", "config": {"x": 1, "y": 2}}]})
    two = Flow.model_validate({"nodes": [{"config": {"y": 2, "x": 1}, "type": "text", "id": "a"}]})
    three = Flow.model_validate({"nodes": [{"id": "a", "type": "text", "config": {"x": 2}}]})
    assert one.content_hash() == two.content_hash() != three.content_hash()


@pytest.mark.parametrize("bad_id", ["", "has space", "dot.ted", "1starts-with-digit", "x" * 65])
def test_node_ids_are_restricted(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        Flow.model_validate({"nodes": [{"id": bad_id, "type": "text"}]})


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        Flow.model_validate({"nodes": [], "edgez": []})
