"""Property: whatever document arrives (a file, an API body), reading and compiling it
raises nothing but FlowFileError or FlowInvalid — never a crash inside a node's config."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plait.errors import FlowFileError, FlowInvalid
from plait.flows.loader import flow_from_document
from plait.flows.validate import compile_flow
from plait.nodes.registry import builtin

REGISTRY = builtin()
TYPES = REGISTRY.names()
FIELDS = sorted({name for t in REGISTRY for name in t.config_model.model_fields})
IDS = ["a", "b", "c", "trigger", "img"]
PORTS = ["image", "text", "prompt", "images", "body", "x", "reference_1"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "{{ a.text }}",
            "{{ b.image }}",
            "{{ nope }}",
            "{{",
            "http://127.0.0.1/x.png",
            "http://2130706433/",
            "file:///etc/passwd",
            "https://user:pw@example.com/a.png",
            "http://[fe80::1%25eth0]/",
            "1:1",
            "gemini-2.5-flash-image",
            "png",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from([*FIELDS, "name", "type", "zz"]), inner, max_size=4)
    ),
    max_leaves=12,
)
configs = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)
nodes = st.fixed_dictionaries(
    {
        "id": st.sampled_from(IDS) | st.text(max_size=5),
        "type": st.sampled_from(TYPES) | st.text(max_size=8),
        "config": configs | json_values,
    }
)
endpoints = st.builds(lambda n, p: f"{n}.{p}", st.sampled_from(IDS), st.sampled_from(PORTS))
edges = st.fixed_dictionaries({"from": endpoints | st.text(max_size=6), "to": endpoints})
documents = st.one_of(
    st.fixed_dictionaries(
        {"format": st.just(1) | json_values, "nodes": st.lists(nodes, max_size=5)},
        optional={"edges": st.lists(edges, max_size=6)},
    ),
    json_values,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_only_flow_errors_come_out(document: Any) -> None:
    message = "compiled"
    try:
        compile_flow(flow_from_document(document), REGISTRY)
    except (FlowFileError, FlowInvalid) as exc:
        message = str(exc)
    assert message  # every refusal says something
