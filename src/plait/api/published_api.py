"""A published flow's own API description: an OpenAPI document and copyable examples,
generated from its HTTP Trigger's declared fields."""

from __future__ import annotations

import json
from typing import Any

from plait.api.publication import SECRET_PLACEHOLDER, trigger_url
from plait.api.state import ServerState
from plait.flows.model import Flow
from plait.nodes.http_trigger import HttpTriggerConfig, TriggerField

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "json": {},
    "image": {
        "type": "string",
        "description": "an image as a data: URL or base64 (JSON), or a file part (multipart)",
    },
}
_SAMPLES = {"text": "a red sneaker on white", "number": 1, "boolean": True, "json": {}}


def trigger_fields(flow: Flow) -> dict[str, list[TriggerField]]:
    return {
        node.id: HttpTriggerConfig.model_validate(node.config).fields
        for node in flow.nodes
        if node.type == "http_trigger"
    }


def openapi_document(state: ServerState, flow_id: str, flow: Flow, version: int) -> dict[str, Any]:
    paths = {
        f"/api/trigger/{{secret}}/{node_id}": {"post": _operation(node_id, fields)}
        for node_id, fields in trigger_fields(flow).items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": flow.name or f"Flow {flow_id}",
            "description": flow.description,
            "version": str(version),
        },
        "servers": [{"url": state.settings.public_origin}],
        "paths": paths,
    }


def _operation(node_id: str, fields: list[TriggerField]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            f.name: {**_JSON_TYPES[f.type], "description": f.description or f.type} for f in fields
        },
        "required": [f.name for f in fields if f.required and f.default is None],
        "additionalProperties": False,
    }
    return {
        "operationId": f"trigger_{node_id}",
        "parameters": [
            {"name": "secret", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "wait", "in": "query", "schema": {"type": "boolean", "default": True}},
            {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}},
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}, "multipart/form-data": {}},
        },
        "responses": {
            "200": {"description": "the Respond to Webhook node's answer"},
            "202": {"description": "accepted; poll status_url"},
            "404": {"description": "unknown secret or node"},
            "422": {"description": "a field is missing or malformed"},
            "429": {"description": "over the rate limit; see Retry-After"},
        },
    }


def examples(state: ServerState, flow: Flow) -> dict[str, str]:
    fields = trigger_fields(flow)
    if not fields:
        return {"curl": "", "python": "", "javascript": ""}
    node_id, declared = next(iter(fields.items()))
    url = trigger_url(state, SECRET_PLACEHOLDER, node_id)
    body = {f.name: _sample(f) for f in declared if f.type != "image"}
    text = json.dumps(body)
    pretty = json.dumps(body, indent=4)
    return {
        "curl": f"curl -X POST '{url}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{text}'",
        "python": "import httpx\n\n"
        f"response = httpx.post(\n    {url!r},\n    json={pretty},\n    timeout=120,\n)\n"
        "response.raise_for_status()\nprint(response.json())",
        "javascript": f"const response = await fetch({json.dumps(url)}, {{\n"
        "  method: 'POST',\n  headers: { 'Content-Type': 'application/json' },\n"
        f"  body: JSON.stringify({text}),\n}});\nconsole.log(await response.json());",
    }


def _sample(field: TriggerField) -> Any:
    return field.default if field.default is not None else _SAMPLES[field.type]
