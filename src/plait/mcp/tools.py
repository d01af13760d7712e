"""Which published flows are MCP tools, and how each is named, described and called.

A flow is a tool when it is published with `mcp` on. Its tool is named from the flow's
name (`^[a-zA-Z0-9_-]{1,64}$`, as MCP asks); flows whose names give the same tool name
keep it in the order they were created, the later ones suffixed with their flow id, so a
name does not change when another flow is published. Its input schema is its first HTTP
Trigger's fields, image fields taking an http(s) URL, a data: URL or base64.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from plait.nodes.http_trigger import HttpTriggerConfig, TriggerField, fields_schema
from plait.store.flows import ToolFlow

MAX_NAME = 64
IDEMPOTENCY_ARGUMENT = "idempotency_key"
_NOT_NAME = re.compile(r"[^a-zA-Z0-9_-]+")
_IMAGE = "an image: an http(s) URL (fetched by the server), a data: URL or base64 text"
_IDEMPOTENCY = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "description": "Optional. A call repeating an earlier call's key answers with that call's "
    "run instead of starting (and paying for) another (the HTTP API's Idempotency-Key)",
}


@dataclass(frozen=True)
class FlowTool:
    name: str
    description: str
    input_schema: dict[str, Any]
    flow: ToolFlow
    node_id: str  # the HTTP Trigger it calls
    takes_key: bool  # `idempotency_key` is a tool argument (no trigger field has that name)


def tools(flows: list[ToolFlow]) -> dict[str, FlowTool]:
    """The tools of the MCP-enabled published flows (oldest first), by name."""
    found: dict[str, FlowTool] = {}
    for flow in flows:
        trigger = _first_trigger(flow.published.document)
        if trigger is None:
            continue
        node_id, fields = trigger
        name = _unique(tool_name(flow.name), flow.published.flow_id, found)
        found[name] = _tool(name, flow, node_id, fields)
    return found


def tool_name(flow_name: str) -> str:
    """A flow name as an MCP tool name: runs of other characters become `_`."""
    name = _NOT_NAME.sub("_", flow_name.strip()).strip("_-")[:MAX_NAME]
    return name or "flow"


def _unique(name: str, flow_id: str, taken: dict[str, FlowTool]) -> str:
    if name not in taken:
        return name
    suffix = "_" + (_NOT_NAME.sub("_", flow_id) or "flow")
    return name[: MAX_NAME - len(suffix)] + suffix


def _tool(name: str, flow: ToolFlow, node_id: str, fields: list[TriggerField]) -> FlowTool:
    schema = fields_schema(fields)
    properties = schema["properties"]
    for field in fields:
        if field.type == "image":
            given = field.description
            properties[field.name]["description"] = f"{given}: {_IMAGE}" if given else _IMAGE
    takes_key = IDEMPOTENCY_ARGUMENT not in properties
    if takes_key:
        properties[IDEMPOTENCY_ARGUMENT] = _IDEMPOTENCY
    return FlowTool(name, _description(flow), schema, flow, node_id, takes_key)


def _description(flow: ToolFlow) -> str:
    document = flow.published.document
    told = flow.description.strip() or str(document.get("description") or "").strip()
    title = flow.name or str(document.get("name") or "") or flow.published.flow_id
    run = f"Runs the Plait image flow '{title}' (published version {flow.published.version})"
    return f"{told}\n\n{run}." if told else f"{run}."


def _first_trigger(document: dict[str, Any]) -> tuple[str, list[TriggerField]] | None:
    for node in document.get("nodes", []):
        if node.get("type") == "http_trigger":
            config = HttpTriggerConfig.model_validate(node.get("config") or {})
            return str(node["id"]), config.fields
    return None
