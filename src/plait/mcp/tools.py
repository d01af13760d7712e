"""Which flows are MCP tools, and how each is named, described and called.

A flow is a tool when it has an HTTP Trigger: a published flow with `mcp` on (served at
`/mcp`), or a flow file in the folder `plait mcp DIR` serves (`plait.mcp.headless`). Both
kinds are made into tools here, alike. A tool is named from the flow's name
(`^[a-zA-Z0-9_-]{1,64}$`, as MCP asks); flows whose names give the same tool name keep it
in the order given (published flows: as they were created; files: by file name), the later
ones suffixed with their flow id or file name, so a name does not change when another flow
comes. Its input schema is its first HTTP Trigger's fields, image fields taking an http(s)
URL, a data: URL or base64.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic

from typing_extensions import TypeVar

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

F = TypeVar("F", default=ToolFlow)  # what a tool runs: a published flow, a flow file


@dataclass(frozen=True)
class About:
    """What a tool is made from, whatever kind of flow it runs."""

    key: str  # unique among the flows, stable: suffixes a name an earlier flow took
    title: str  # the flow's name
    description: str  # the flow's description ("" for none)
    document: dict[str, Any]  # the flow document to run
    origin: str  # which flow the tool runs, for its description: "published version 3"
    keyed: bool  # calls take an `idempotency_key` (only where the runs are recorded by key)


@dataclass(frozen=True)
class FlowTool(Generic[F]):
    name: str
    description: str
    input_schema: dict[str, Any]
    flow: F
    node_id: str  # the HTTP Trigger it calls
    takes_key: bool  # `idempotency_key` is a tool argument (no trigger field has that name)
    title: str | None = None


def tools(flows: list[ToolFlow]) -> dict[str, FlowTool[ToolFlow]]:
    """The tools of the MCP-enabled published flows (oldest first), by name."""
    return made_tools(flows, _published)


def made_tools(flows: Iterable[F], about: Callable[[F], About]) -> dict[str, FlowTool[F]]:
    """The tools of the flows that have an HTTP Trigger, by name, in the flows' order."""
    found: dict[str, FlowTool[F]] = {}
    for flow in flows:
        told = about(flow)
        trigger = first_trigger(told.document)
        if trigger is None:
            continue
        node_id, fields = trigger
        name = _unique(tool_name(told.title), told.key, found)
        found[name] = _tool(name, told, flow, node_id, fields)
    return found


def tool_name(flow_name: str) -> str:
    """A flow name as an MCP tool name: runs of other characters become `_`."""
    name = _NOT_NAME.sub("_", flow_name.strip()).strip("_-")[:MAX_NAME]
    return name or "flow"


def first_trigger(document: dict[str, Any]) -> tuple[str, list[TriggerField]] | None:
    """The id and fields of the document's first HTTP Trigger; None without one."""
    for node in document.get("nodes", []):
        if node.get("type") == "http_trigger":
            config = HttpTriggerConfig.model_validate(node.get("config") or {})
            return str(node["id"]), config.fields
    return None


def _unique(name: str, key: str, taken: dict[str, FlowTool[F]]) -> str:
    if name not in taken:
        return name
    suffix = "_" + (_NOT_NAME.sub("_", key) or "flow")
    return name[: MAX_NAME - len(suffix)] + suffix


def _tool(name: str, told: About, flow: F, node_id: str, fields: list[TriggerField]) -> FlowTool[F]:
    schema = fields_schema(fields)
    properties = schema["properties"]
    for field in fields:
        if field.type == "image":
            given = field.description
            properties[field.name]["description"] = f"{given}: {_IMAGE}" if given else _IMAGE
    takes_key = told.keyed and IDEMPOTENCY_ARGUMENT not in properties
    if takes_key:
        properties[IDEMPOTENCY_ARGUMENT] = _IDEMPOTENCY
    return FlowTool(name, _description(told), schema, flow, node_id, takes_key, told.title or None)


def _description(told: About) -> str:
    said = told.description.strip() or str(told.document.get("description") or "").strip()
    title = told.title or str(told.document.get("name") or "") or told.key
    run = f"Runs the Plait image flow '{title}' ({told.origin})"
    return f"{said}\n\n{run}." if said else f"{run}."


def _published(flow: ToolFlow) -> About:
    published = flow.published
    return About(
        key=published.flow_id,
        title=flow.name,
        description=flow.description,
        document=published.document,
        origin=f"published version {published.version}",
        keyed=True,
    )
