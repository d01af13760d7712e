"""Which published flows are MCP tools, and their names, descriptions and schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from plait.mcp.tools import About, made_tools, tool_name, tools
from plait.store.flows import PublishedFlow, ToolFlow

VALID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _flow(flow_id: str, name: str, fields: list[dict[str, Any]] | None = None) -> ToolFlow:
    trigger = {"id": "in", "type": "http_trigger", "config": {"fields": fields or []}}
    document = {"format": 1, "name": name, "nodes": [trigger], "edges": []}
    published = PublishedFlow(flow_id, 3, "h", document, 60, None, None)
    return ToolFlow(published, name, "", datetime(2026, 1, 1, tzinfo=UTC))


@given(st.text(max_size=200))
def test_every_flow_name_gives_a_valid_tool_name(name: str) -> None:
    assert VALID.match(tool_name(name))


def test_names_are_unique_and_the_first_flow_keeps_its_name() -> None:
    found = tools(
        [_flow("a1", "Product shot"), _flow("b2", "Product  shot"), _flow("c3", "x" * 80)]
    )
    assert list(found) == ["Product_shot", "Product_shot_b2", "x" * 64]
    assert found["Product_shot_b2"].flow.published.flow_id == "b2"
    assert (
        found["Product_shot"].description
        == "Runs the Plait image flow 'Product shot' (published version 3)."
    )


def test_a_long_name_that_collides_stays_within_64_characters() -> None:
    found = tools([_flow("a1", "y" * 70), _flow("b2", "y" * 70)])
    assert [len(name) for name in found] == [64, 64]
    assert all(VALID.match(name) for name in found)


def test_the_schema_is_the_triggers_fields_with_image_forms_and_an_idempotency_key() -> None:
    fields: list[dict[str, Any]] = [
        {"name": "photo", "type": "image", "description": "the product"},
        {"name": "n", "type": "number", "required": False},
    ]
    [tool] = tools([_flow("a1", "Shot", fields)]).values()
    properties = tool.input_schema["properties"]
    assert properties["photo"]["type"] == "string"
    assert properties["photo"]["description"].startswith("the product: an image: an http(s) URL")
    assert tool.input_schema["required"] == ["photo"]
    assert tool.takes_key
    assert "idempotency_key" in properties
    [keyed] = tools([_flow("a1", "Shot", [{"name": "idempotency_key"}])]).values()
    assert not keyed.takes_key  # the trigger's own field keeps the name


def test_a_flow_without_an_http_trigger_is_no_tool() -> None:
    bare = _flow("a1", "Bare")
    bare.published.document["nodes"] = []
    assert tools([bare]) == {}


def test_any_flow_is_made_a_tool_alike_without_a_key_where_none_is_recorded() -> None:
    def about(path: str) -> About:
        trigger = {"id": "in", "type": "http_trigger", "config": {"fields": [{"name": "p"}]}}
        document = {"format": 1, "name": "Shot", "nodes": [trigger], "edges": []}
        return About(path, "Shot", "Shoots", document, f"the flow file {path}.json", False)

    found = made_tools(["a", "b"], about)
    assert list(found) == ["Shot", "Shot_b"]
    assert found["Shot_b"].flow == "b"
    assert (
        found["Shot"].description
        == "Shoots\n\nRuns the Plait image flow 'Shot' (the flow file a.json)."
    )
    assert not found["Shot"].takes_key
    assert list(found["Shot"].input_schema["properties"]) == ["p"]
