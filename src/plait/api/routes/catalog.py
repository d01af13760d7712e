"""What the editor builds with: node types, models, validation, templates, health."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Response

from plait import __version__
from plait.api import schemas
from plait.api.auth import State
from plait.api.errors import problem_json
from plait.api.schemas import answers
from plait.errors import FlowInvalid, PlaitError
from plait.flows.gallery import bundled, flow_templates
from plait.flows.loader import flow_from_document
from plait.flows.ports import Port
from plait.flows.validate import validate_with_ports
from plait.flows.validate import warnings as flow_warnings
from plait.providers import catalog, gemini_models
from plait.providers.catalog_view import catalog_json
from plait.providers.gemini_models import KeyModels

public = APIRouter(tags=["health"])
router = APIRouter(prefix="/api", tags=["catalog"])


@public.get("/api/health", **answers(schemas.Health, responses={503: {"model": schemas.Health}}))
async def health(state: State, response: Response) -> dict[str, Any]:
    """Readiness: this process reaches what it depends on (Redis, the blob store, the
    database), each check named; 503 when one fails, so a load balancer sends elsewhere."""
    checks = await state.health.run()
    ready = all(check["ok"] for check in checks.values())
    if not ready:
        response.status_code = 503
    return {"status": "ok" if ready else "unavailable", "version": __version__, "checks": checks}


def port_json(port: Port) -> dict[str, Any]:
    data = asdict(port)
    data["type"] = port.type.value
    return data


@router.get("/node-types", **answers(list[schemas.NodeTypeInfo]))
async def node_types(state: State) -> list[dict[str, Any]]:
    described = []
    for node_type in state.runtime.registry:
        config = node_type.config_model.model_construct()  # defaults; some need a value set
        described.append(
            {
                **node_type.describe(),
                "inputs": [port_json(p) for p in node_type.inputs(config)],
                "outputs": [port_json(p) for p in node_type.outputs(config)],
            }
        )
    return described


@router.get("/models", **answers(schemas.ModelCatalog))
async def models(state: State) -> dict[str, Any]:
    """The catalog, with whether this server's key can use each model (docs/models.md)."""
    return catalog_json(catalog.current(), await _key_models(state, refresh=False))


@router.post("/models/check", **answers(schemas.ModelCatalog))
async def check_models(state: State) -> dict[str, Any]:
    """`GET /models` after asking Gemini for the key's model list again."""
    return catalog_json(catalog.current(), await _key_models(state, refresh=True))


async def _key_models(state: State, *, refresh: bool) -> KeyModels | None:
    lazy = state.runtime.provider
    if lazy.backend != "gemini" or lazy.current_key() is None:
        return None
    try:
        provider = lazy()
    except PlaitError:
        return None
    try:
        return await gemini_models.for_display(provider, refresh=refresh)
    except gemini_models.ModelListError as exc:
        raise HTTPException(502, exc.message) from None


@router.post("/validate", **answers(schemas.ValidateAnswer))
async def validate(state: State, document: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    try:
        flow = flow_from_document(document)
    except FlowInvalid as exc:
        return {"valid": False, "problems": [problem_json(p) for p in exc.problems], "ports": {}}
    except PlaitError as exc:
        return {"valid": False, "problems": [problem_json(exc)], "ports": {}}
    problems, ports = validate_with_ports(flow, state.runtime.registry)
    return {
        "valid": not problems,
        "problems": [problem_json(p) for p in problems],
        "warnings": [problem_json(p) for p in flow_warnings(flow, state.runtime.registry)],
        "ports": {
            node_id: {
                "inputs": [port_json(p) for p in inputs],
                "outputs": [port_json(p) for p in outputs],
            }
            for node_id, (inputs, outputs) in ports.items()
        },
    }


@router.get("/templates", **answers(list[schemas.Template]))
async def templates(state: State) -> list[dict[str, Any]]:
    """The shipped flow templates, self-contained: their sample images are stored as blobs
    and named by id, so each runs on the server as it is."""
    found = []
    for template in flow_templates():
        document, blobs = await asyncio.to_thread(
            bundled, template.document, state.runtime.registry
        )
        for data in blobs.values():
            await state.runtime.blobs.put(data)
        found.append({**asdict(template), "document": document})
    return found
