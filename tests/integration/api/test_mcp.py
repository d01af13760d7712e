"""Published flows as MCP tools, driven by the official MCP client (`ClientSession`) over
Streamable HTTP against a real server: listing, calling, limits, auth, cancelling."""

from __future__ import annotations

import asyncio
import base64
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import mcp_types as types
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests import loopback
from tests.fakes.gemini import FakeGemini
from tests.helpers import open_image, png
from tests.integration.api import flows
from tests.server import LiveServer, server_settings


def token(admin: httpx.Client, *scopes: str) -> str:
    answer = admin.post("/api/tokens", json={"name": "mcp", "scopes": list(scopes)})
    assert answer.status_code == 201, answer.text
    made: str = answer.json()["token"]
    return made


@asynccontextmanager
async def mcp_session(server: LiveServer | str, bearer: str) -> AsyncIterator[ClientSession]:
    """An MCP client session with a server's `/mcp` (a test server, or a server's URL)."""
    url = server if isinstance(server, str) else server.url
    headers = {"Authorization": f"Bearer {bearer}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def listed(server: LiveServer, bearer: str) -> dict[str, types.Tool]:
    async def listing() -> list[types.Tool]:
        async with mcp_session(server, bearer) as session:
            return (await session.list_tools()).tools

    return {tool.name: tool for tool in asyncio.run(listing())}


def called(
    server: LiveServer, bearer: str, name: str, *arguments: dict[str, Any]
) -> list[types.CallToolResult]:
    """Call the tool once per arguments, in turn, in one session."""

    async def calling() -> list[types.CallToolResult]:
        async with mcp_session(server, bearer) as session:
            return [await session.call_tool(name, given) for given in arguments]

    return asyncio.run(calling())


def text_of(result: types.CallToolResult) -> str:
    first = result.content[0]
    assert isinstance(first, types.TextContent)
    return first.text


def published(admin: httpx.Client, document: dict[str, Any], **settings: Any) -> str:
    flow_id = flows.create(admin, document)
    flows.publish(admin, flow_id, **settings)
    return flow_id


def named(document: dict[str, Any], name: str, description: str = "") -> dict[str, Any]:
    return {**document, "name": name, "description": description}


def test_only_mcp_enabled_published_flows_are_listed_with_their_schemas(
    server: LiveServer, admin: httpx.Client
) -> None:
    fields: list[dict[str, Any]] = [
        {"name": "prompt", "description": "what to draw"},
        {"name": "photo", "type": "image", "required": False},
        {"name": "count", "type": "number", "default": 1},
    ]
    shot = named(flows.echo_fields(fields, ["prompt"]), "Product shot!", "Shoots products")
    published(admin, shot, mcp=True)
    published(admin, named(flows.echo(), "Product shot"), mcp=True)  # the same tool name
    published(admin, named(flows.echo(), "Not offered"))  # published, MCP off
    flows.create(admin, named(flows.echo(), "Draft only"))  # never published
    tools = listed(server, token(admin, "run"))
    assert len(tools) == 2
    first = tools["Product_shot"]
    assert first.description is not None
    assert first.description.startswith("Shoots products")
    schema = first.input_schema
    assert schema["required"] == ["prompt"]
    assert schema["properties"]["prompt"]["description"] == "what to draw"
    assert "data: URL" in schema["properties"]["photo"]["description"]
    assert schema["properties"]["count"]["type"] == "number"
    assert "idempotency_key" in schema["properties"]
    second = next(name for name in tools if name != "Product_shot")
    assert second.startswith("Product_shot_")
    assert all(len(name) <= 64 for name in tools)


def test_a_call_in_preview_mode_answers_the_body_an_image_and_the_run(
    server: LiveServer, admin: httpx.Client
) -> None:
    flow_id = published(admin, named(flows.image_endpoint(), "Draw"), mcp=True)
    [result] = called(server, token(admin, "run"), "Draw", {"prompt": "a red sneaker"})
    assert not result.is_error, result.content
    structured = result.structured_content
    assert structured is not None
    assert structured["result"]["image"].startswith(f"{server.url}/files/")
    assert structured["cost_usd"] == 0.0  # the preview backend is free
    assert structured["duration_ms"] > 0
    images = [c for c in result.content if isinstance(c, types.ImageContent)]
    assert len(images) == 1
    assert images[0].mime_type == "image/png"
    assert open_image(base64.b64decode(images[0].data)).size == (1024, 1024)
    run = admin.get(f"/api/runs/{structured['run_id']}").json()
    assert (run["flow_id"], run["status"], run["source"]) == (flow_id, "succeeded", "trigger")


def test_an_image_argument_is_taken_as_base64_and_a_large_image_becomes_a_link(
    tmp_path: Path,
) -> None:
    settings = server_settings(
        tmp_path / "data", PLAIT_BASE_URL=None, PLAIT_MCP_MAX_IMAGE_BYTES="64"
    )
    with LiveServer(settings) as server, server.admin() as admin:
        server.settings.base_url = server.url
        published(admin, named(flows.photo_echo(), "Echo photo"), mcp=True)
        sent = base64.b64encode(png(40, 30)).decode()
        result, refused = called(
            server, token(admin, "run"), "Echo_photo", {"photo": sent}, {"photo": "not base64!"}
        )
        assert not result.is_error, result.content
        links = [c for c in result.content if isinstance(c, types.ResourceLink)]
        assert len(links) == 1
        assert links[0].mime_type == "image/png"
        assert not [c for c in result.content if isinstance(c, types.ImageContent)]
        fetched = loopback.get(str(links[0].uri))
        assert open_image(fetched.content).size == (40, 30)
    assert refused.is_error
    assert text_of(refused).startswith("input 'photo': expects an image")


def test_the_rate_limit_is_the_triggers_and_says_so(
    server: LiveServer, admin: httpx.Client
) -> None:
    published(admin, named(flows.echo(), "Echo"), mcp=True, rate_limit_per_minute=2)
    answers = called(server, token(admin, "run"), "Echo", *({"prompt": f"p{i}"} for i in range(3)))
    assert [a.is_error for a in answers] == [False, False, True]
    assert answers[0].structured_content is not None
    assert answers[0].structured_content["result"] == {"prompt": "p0", "label": "v1"}
    assert text_of(answers[2]).startswith("over this trigger's limit of 2 requests per minute")


def test_a_repeated_idempotency_key_answers_the_first_run(
    server: LiveServer, admin: httpx.Client
) -> None:
    published(admin, named(flows.echo(), "Echo"), mcp=True)
    first, again = called(
        server,
        token(admin, "run"),
        "Echo",
        {"prompt": "one", "idempotency_key": "k1"},
        {"prompt": "two", "idempotency_key": "k1"},
    )
    assert first.structured_content is not None
    assert again.structured_content is not None
    assert again.structured_content["run_id"] == first.structured_content["run_id"]
    assert again.structured_content["result"]["prompt"] == "one"


def test_without_a_token_or_without_the_run_scope_mcp_is_refused(
    server: LiveServer, admin: httpx.Client
) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    with server.client() as anonymous:
        refused = anonymous.post("/mcp", json=hello)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = anonymous.post("/mcp", json=hello, headers={"Authorization": "Bearer plait_no"})
        assert wrong.status_code == 401
    assert admin.post("/mcp", json=hello).status_code == 401  # a browser session is not enough
    reader = token(admin, "read")
    with server.client(headers={"Authorization": f"Bearer {reader}"}) as client:
        forbidden = client.post("/mcp", json=hello)
    assert forbidden.status_code == 403
    assert "needs 'run'" in forbidden.json()["detail"]


def test_cancelling_a_call_cancels_its_run(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    gemini_fake.latency = 60  # the Gemini call outlasts the test unless the run is cancelled
    with gemini_server.admin() as admin:
        published(admin, named(flows.image_endpoint(), "Draw"), mcp=True)
        bearer = token(admin, "run")
        run_id = asyncio.run(_cancel_a_call(gemini_server, bearer))
        assert admin.get(f"/api/runs/{run_id}").json()["status"] == "cancelled"


async def _cancel_a_call(server: LiveServer, bearer: str) -> str:
    headers = {"Authorization": f"Bearer {bearer}"}
    async with (
        loopback.async_client(base_url=server.url, headers=headers) as api,
        mcp_session(server, bearer) as session,
    ):

        async def status(run_id: str) -> str:
            found: str = (await api.get(f"/api/runs/{run_id}")).json()["status"]
            return found

        return await cancel_a_call(session, "Draw", {"prompt": "slow"}, status)


RunStatus = Callable[[str], Awaitable[str]]  # a run's recorded status, by its id


async def cancel_a_call(
    session: ClientSession, tool: str, arguments: dict[str, Any], status: RunStatus
) -> str:
    """Call, learn the run's id from the first progress notification, wait for it to run,
    cancel the call, and wait for the run to settle; its id."""
    started: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def heard(progress: float, total: float | None, message: str | None) -> None:
        if message and not started.done():
            started.set_result(message.split()[1])  # "run <id> started"

    call = asyncio.ensure_future(session.call_tool(tool, arguments, progress_callback=heard))
    run_id = await started
    await until_recorded(status, run_id, {"running"})
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await until_recorded(status, run_id, {"cancelled", "failed", "succeeded"})
    return run_id


async def until_recorded(status: RunStatus, run_id: str, statuses: set[str]) -> None:
    for _ in range(3000):
        if await status(run_id) in statuses:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"run {run_id} never reached {statuses}")


def test_plait_mcp_over_stdio_lists_and_calls_the_servers_tools(
    server: LiveServer, admin: httpx.Client
) -> None:
    published(admin, named(flows.image_endpoint(), "Draw"), mcp=True)
    published(admin, named(flows.echo(), "Hidden"))
    bearer = token(admin, "run")
    tools, result = asyncio.run(_over_stdio(server, bearer))
    assert list(tools) == ["Draw"]
    assert tools["Draw"].input_schema["required"] == ["prompt"]
    assert not result.is_error, result.content
    images = [c for c in result.content if isinstance(c, types.ImageContent)]
    assert len(images) == 1
    assert open_image(base64.b64decode(images[0].data)).size == (1024, 1024)
    assert result.structured_content is not None
    run = admin.get(f"/api/runs/{result.structured_content['run_id']}").json()
    assert run["status"] == "succeeded"


async def _over_stdio(
    server: LiveServer, bearer: str
) -> tuple[dict[str, types.Tool], types.CallToolResult]:
    command = StdioServerParameters(
        command=sys.executable,
        args=["-m", "plait", "mcp"],
        env={"PLAIT_URL": server.url, "PLAIT_TOKEN": bearer},
    )
    async with stdio_client(command) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        result = await session.call_tool("Draw", {"prompt": "over stdio"})
    return tools, result
