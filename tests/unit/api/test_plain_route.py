"""PlainRoute: documented like any route, called with its path parameters and the request."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from plait.api.plain_route import PlainRoute


async def echo(shelf: str, item: str, request: Request) -> Response:
    if item == "missing":
        raise HTTPException(404, "no such item")
    return JSONResponse({"shelf": shelf, "item": item, "query": dict(request.query_params)})


def app() -> FastAPI:
    router = APIRouter()
    router.add_api_route(
        "/shelves/{shelf}/{item}", echo, methods=["POST"], route_class_override=PlainRoute
    )
    application = FastAPI()
    application.include_router(router)
    return application


async def test_the_endpoint_gets_its_path_parameters_and_the_request() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        found = await client.post("/shelves/a%20b/7?wait=false")
        missing = await client.post("/shelves/a/missing")
    assert found.json() == {"shelf": "a b", "item": "7", "query": {"wait": "false"}}
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no such item"}  # the app's exception handling


def test_openapi_documents_its_path_parameters() -> None:
    operation = app().openapi()["paths"]["/shelves/{shelf}/{item}"]["post"]
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [
        ("shelf", "path"),
        ("item", "path"),
    ]


def test_an_endpoint_taking_anything_else_is_refused() -> None:
    async def wants_more(shelf: str, request: Request, limit: int = 3) -> Response:
        raise AssertionError

    with pytest.raises(TypeError, match="must take exactly"):
        PlainRoute("/shelves/{shelf}", wants_more, methods=["POST"])
