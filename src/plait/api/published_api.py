"""A published flow's own API description: an OpenAPI document and copyable examples,
generated from its HTTP Trigger's declared fields."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

from plait.api.publication import SECRET_PLACEHOLDER, trigger_url
from plait.api.state import ServerState
from plait.flows.model import Flow
from plait.nodes.http_trigger import HttpTriggerConfig, TriggerField, fields_schema

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
    schema = fields_schema(fields)
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


PHOTO = "photo.jpg"  # the file the examples send for each image field


def examples(state: ServerState, flow: Flow) -> dict[str, str]:
    """curl, Python and JavaScript (Node, an ES module) that run as written once the secret
    is filled in and, for image fields, a `photo.jpg` is beside them: curl sends images as
    multipart file parts, Python and JavaScript as base64 in JSON."""
    fields = trigger_fields(flow)
    if not fields:
        return {"curl": "", "python": "", "javascript": ""}
    node_id, declared = next(iter(fields.items()))
    url = trigger_url(state, SECRET_PLACEHOLDER, node_id)
    values = {f.name: _sample(f) for f in declared if f.type != "image"}
    images = [f.name for f in declared if f.type == "image"]
    return {
        "curl": _curl(url, values, images),
        "python": _python(url, values, images),
        "javascript": _javascript(url, values, images),
    }


def _curl(url: str, values: dict[str, Any], images: list[str]) -> str:
    lines = [f"curl -X POST {shlex.quote(url)}"]
    if images:
        parts = [f"{name}={_form_text(value)}" for name, value in values.items()]
        parts += [f"{name}=@{PHOTO}" for name in images]
        lines += [f"-F {shlex.quote(part)}" for part in parts]
    else:
        lines += ["-H 'Content-Type: application/json'", f"-d {shlex.quote(json.dumps(values))}"]
    return " \\\n  ".join(lines)


def _form_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _python(url: str, values: dict[str, Any], images: list[str]) -> str:
    head = "import httpx\n\n"
    if images:
        head = (
            "import base64\n\nimport httpx\n\n"
            f"with open({PHOTO!r}, 'rb') as file:\n"
            "    photo = base64.b64encode(file.read()).decode()\n\n"
        )
    body = _literal(values, images, repr, "    ")
    return (
        f"{head}response = httpx.post(\n    {url!r},\n    json={body},\n    timeout=120,\n)\n"
        "response.raise_for_status()\nprint(response.json())"
    )


def _javascript(url: str, values: dict[str, Any], images: list[str]) -> str:
    head = ""
    if images:
        head = (
            "import { readFile } from 'node:fs/promises';\n\n"
            f"const photo = (await readFile({json.dumps(PHOTO)})).toString('base64');\n"
        )
    body = _literal(values, images, json.dumps, "  ")
    return (
        f"{head}const response = await fetch({json.dumps(url)}, {{\n"
        "  method: 'POST',\n  headers: { 'Content-Type': 'application/json' },\n"
        f"  body: JSON.stringify({body}),\n}});\n"
        "if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);\n"
        "console.log(await response.json());"
    )


def _literal(
    values: dict[str, Any], images: list[str], quote: Callable[[Any], str], indent: str
) -> str:
    """An object literal over several lines, keys and values written by `quote` (Python's
    repr, JSON for JavaScript), then each image field set to the `photo` variable."""
    lines = [f"{indent * 2}{quote(key)}: {quote(value)}," for key, value in values.items()]
    lines += [f"{indent * 2}{quote(name)}: photo," for name in images]
    return "{\n" + "\n".join(lines) + f"\n{indent}}}" if lines else "{}"


def _sample(field: TriggerField) -> Any:
    return field.default if field.default is not None else _SAMPLES[field.type]
