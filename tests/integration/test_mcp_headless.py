"""`plait mcp DIR`: a folder's flow files as MCP tools without a server, driven by the
official MCP client (`stdio_client` + `ClientSession`) against a real `plait mcp`
subprocess: listing, calling in preview mode, refused inputs, large images, cancelling."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import mcp_types as types
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.fakes.gemini import FakeGemini
from tests.helpers import EXAMPLES, open_image, png
from tests.integration.api import flows
from tests.integration.api.test_mcp import cancel_a_call, text_of


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The example flows (each with an HTTP Trigger), one without a trigger, one that is
    not JSON, one naming an unknown node type, and one taking an image."""
    made = tmp_path / "flows"
    shutil.copytree(EXAMPLES, made)
    bare = {"format": 1, "name": "No trigger", "nodes": [], "edges": []}
    (made / "bare.json").write_text(json.dumps(bare))
    (made / "broken.json").write_text("{not json")
    unknown = {**flows.echo(), "nodes": [{"id": "x", "type": "teleport", "config": {}}]}
    (made / "unknown.json").write_text(json.dumps(unknown))
    (made / "photo.json").write_text(json.dumps({**flows.photo_echo(), "name": "Echo photo"}))
    return made


@asynccontextmanager
async def headless(
    folder: Path, data: Path, *args: str, errlog: Path | None = None, **env: str
) -> AsyncIterator[ClientSession]:
    """A client session with `plait mcp FOLDER` (its data folder `data`)."""
    command = StdioServerParameters(
        command=sys.executable,
        args=["-m", "plait", "mcp", *args, str(folder)],
        env={"PLAIT_DATA_DIR": str(data), **env},
    )
    with (errlog or data.parent / "stderr.txt").open("w") as log:
        async with (
            stdio_client(command, errlog=log) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def recorded(data: Path, run_id: str) -> tuple[str, str] | None:
    """The run's (status, source) in the data folder's database; None before its row."""
    with sqlite3.connect(data / "plait.db", timeout=30) as db:
        row = db.execute("SELECT status, source FROM runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else (row[0], row[1])


def file_of(uri: str) -> Path:
    parsed = urlparse(uri)
    assert parsed.scheme == "file", uri
    return Path(unquote(parsed.path))


def test_only_flow_files_with_a_trigger_are_tools_and_bad_files_are_named(
    folder: Path, tmp_path: Path
) -> None:
    errlog = tmp_path / "stderr.txt"

    async def listing() -> list[types.Tool]:
        async with headless(folder, tmp_path / "data", errlog=errlog) as session:
            return (await session.list_tools()).tools

    tools = {tool.name: tool for tool in asyncio.run(listing())}
    assert sorted(tools) == ["Echo_photo", "Product_in_a_scene", "Product_shot", "Social_card"]
    shot = tools["Product_shot"]
    assert shot.title == "Product shot"
    assert shot.description is not None
    assert shot.description.startswith("A prompt becomes a Gemini image")
    assert "product-shot.json" in shot.description
    assert shot.input_schema["required"] == ["prompt"]
    assert shot.input_schema["properties"] == {
        "prompt": {"type": "string", "description": "What to photograph"}
    }  # no idempotency_key: no published flow to record it against
    card = tools["Social_card"].input_schema
    assert card["required"] == ["prompt"]
    assert card["properties"]["price"]["type"] == "string"
    assert "data: URL" in tools["Echo_photo"].input_schema["properties"]["photo"]["description"]
    told = errlog.read_text()
    assert "not serving bare.json: it has no HTTP Trigger node" in told
    assert "not serving broken.json:" in told
    assert "is not valid JSON" in told
    assert "not serving unknown.json:" in told
    assert "teleport" in told
    assert told.count("not serving broken.json") == 1  # told once, though the folder is read again


def test_a_call_in_preview_mode_answers_the_body_its_images_and_the_run(
    folder: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"

    async def calling() -> tuple[types.CallToolResult, types.CallToolResult]:
        async with headless(folder, data, "--preview") as session:
            made = await session.call_tool("Product_shot", {"prompt": "a red sneaker"})
            missing = await session.call_tool("Product_shot", {})
            return made, missing

    result, missing = asyncio.run(calling())
    assert not result.is_error, result.content
    structured = result.structured_content
    assert structured is not None
    assert structured["cost_usd"] == 0.0  # the preview backend is free
    assert structured["duration_ms"] > 0
    images = [c for c in result.content if isinstance(c, types.ImageContent)]
    sizes = sorted(open_image(base64.b64decode(image.data)).size for image in images)
    assert sizes == [(800, 597), (1200, 896)]  # the 4:3 image and its 800 px wide thumbnail
    written = file_of(structured["result"]["thumbnail"])
    assert open_image(written.read_bytes()).size == (800, 597)
    assert recorded(data, structured["run_id"]) == ("succeeded", "mcp")
    assert missing.is_error
    assert text_of(missing).startswith("input 'prompt': is required")


def test_an_image_is_taken_as_a_data_url_and_a_large_one_answered_as_a_file_link(
    folder: Path, tmp_path: Path
) -> None:
    sent = base64.b64encode(png(40, 30)).decode()

    photos = [f"data:image/png;base64,{sent}", "not base64!", "http://127.0.0.1:1/a.png"]

    async def calling() -> list[types.CallToolResult]:
        async with headless(folder, tmp_path / "data", PLAIT_MCP_MAX_IMAGE_BYTES="64") as session:
            return [await session.call_tool("Echo_photo", {"photo": p}) for p in photos]

    echoed, refused, private = asyncio.run(calling())
    assert not echoed.is_error, echoed.content
    assert not [c for c in echoed.content if isinstance(c, types.ImageContent)]
    [link] = [c for c in echoed.content if isinstance(c, types.ResourceLink)]
    assert link.mime_type == "image/png"
    assert open_image(file_of(str(link.uri)).read_bytes()).size == (40, 30)
    assert refused.is_error
    assert text_of(refused).startswith("input 'photo': expects an image")
    assert private.is_error  # URLs are fetched through the guarded client: public addresses
    assert text_of(private).startswith("input 'photo': refused http://127.0.0.1:1/")


def test_cancelling_a_call_cancels_its_run_and_the_server_serves_on(
    folder: Path, tmp_path: Path, gemini_fake: FakeGemini
) -> None:
    gemini_fake.latency = 60  # the Gemini call outlasts the test unless the run is cancelled
    (folder / "draw.json").write_text(json.dumps({**flows.image_endpoint(), "name": "Draw"}))
    data = tmp_path / "data"

    async def status(run_id: str) -> str:
        found = await asyncio.to_thread(recorded, data, run_id)
        return "" if found is None else found[0]

    async def cancelling() -> tuple[str, list[str]]:
        async with headless(
            folder, data, GEMINI_API_KEY="k", PLAIT_GEMINI_BASE_URL=gemini_fake.base_url
        ) as session:
            run_id = await cancel_a_call(session, "Draw", {"prompt": "slow"}, status)
            after = [tool.name for tool in (await session.list_tools()).tools]
            return run_id, after

    run_id, after = asyncio.run(cancelling())
    assert recorded(data, run_id) == ("cancelled", "mcp")
    assert "Draw" in after


def plait_mcp(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plait", "mcp", *args],
        env={"PLAIT_DATA_DIR": str(tmp_path / "data"), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_what_plait_mcp_serves_must_be_clear_or_it_says_what_it_needs(
    folder: Path, tmp_path: Path
) -> None:
    both = plait_mcp(tmp_path, "--flows", str(folder), PLAIT_URL="http://127.0.0.1:9")
    assert both.returncode == 2
    assert "unset PLAIT_URL to serve the folder's flow files" in both.stderr
    missing = plait_mcp(tmp_path, str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "nowhere is not a folder" in missing.stderr
    neither = plait_mcp(tmp_path)
    assert neither.returncode == 2
    assert "give a folder of flow files" in neither.stderr
    assert "PLAIT_TOKEN" in neither.stderr
