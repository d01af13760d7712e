"""PlainRoute: documented like any route, called with its path parameters and the request;
PlainLane: such a route answered past FastAPI's routing, with the app's exception handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from plait.api.plain_route import PlainLane, PlainRoute


class Unavailable(Exception):
    pass


async def echo(shelf: str, item: str, request: Request) -> Response:
    if item == "missing":
        raise HTTPException(404, "no such item", headers={"X-Why": "missing"})
    if item == "closed":
        raise Unavailable
    if item == "broken":
        raise RuntimeError("a bug")
    return JSONResponse({"shelf": shelf, "item": item, "query": dict(request.query_params)})


class Seen:
    """Inner middleware (inside the lane): records the paths that went FastAPI's way."""

    paths: list[str]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            Seen.paths.append(scope["path"])
        await self.app(scope, receive, send)


def app(*, lane: bool) -> FastAPI:
    router = APIRouter()
    router.add_api_route(
        "/shelves/{shelf}/{item}", echo, methods=["POST"], route_class_override=PlainRoute
    )
    router.add_api_route("/other", lambda: {"other": True}, methods=["GET"])
    application = FastAPI()
    application.include_router(router)

    @application.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": "closed today"}, status_code=503)

    application.add_middleware(Seen)
    if lane:
        application.add_middleware(
            PlainLane, routes=router.routes, handlers=application.exception_handlers
        )
    return application


@pytest.fixture(params=[False, True], ids=["routed", "lane"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    Seen.paths = []
    transport = httpx.ASGITransport(app=app(lane=request.param), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_the_endpoint_gets_its_path_parameters_and_the_request(
    client: httpx.AsyncClient,
) -> None:
    found = await client.post("/shelves/a%20b/7?wait=false")
    assert found.json() == {"shelf": "a b", "item": "7", "query": {"wait": "false"}}


async def test_errors_are_answered_by_the_app_s_exception_handlers(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.post("/shelves/a/missing")
    assert (missing.status_code, missing.json()) == (404, {"detail": "no such item"})
    assert missing.headers["x-why"] == "missing"
    closed = await client.post("/shelves/a/closed")
    assert (closed.status_code, closed.json()) == (503, {"detail": "closed today"})
    broken = await client.post("/shelves/a/broken")
    assert broken.status_code == 500  # the outermost middleware's answer, as routed


async def test_the_lane_skips_fastapi_s_routing_and_inner_middleware() -> None:
    Seen.paths = []
    transport = httpx.ASGITransport(app=app(lane=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/shelves/a/1")).status_code == 200
        assert (await client.get("/other")).json() == {"other": True}
        wrong_method = await client.get("/shelves/a/1")
        too_deep = await client.post("/shelves/a/1/2")
    assert Seen.paths == ["/other", "/shelves/a/1", "/shelves/a/1/2"]  # not the lane's call
    assert wrong_method.status_code == 405  # partial matches go FastAPI's way
    assert too_deep.status_code == 404


def test_openapi_documents_its_path_parameters() -> None:
    operation = app(lane=True).openapi()["paths"]["/shelves/{shelf}/{item}"]["post"]
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [
        ("shelf", "path"),
        ("item", "path"),
    ]


def test_an_endpoint_taking_anything_else_is_refused() -> None:
    async def wants_more(shelf: str, request: Request, limit: int = 3) -> Response:
        raise AssertionError

    with pytest.raises(TypeError, match="must take exactly"):
        PlainRoute("/shelves/{shelf}", wants_more, methods=["POST"])
