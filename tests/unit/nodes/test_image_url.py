"""The Image URL node in a run, fetching from a real server on 127.0.0.1."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from plait.engine.context import Services
from plait.engine.executor import Executor
from plait.engine.state import RunResult, RunStatus
from plait.errors import FlowInvalid
from plait.flows.validate import compile_flow
from plait.media.blobs import LocalBlobStore
from plait.media.image_ref import ImageRef
from plait.net import GuardedClient
from plait.nodes.registry import builtin
from tests.fakes.web import LOOPBACK_ONLY, PNG, FakeResolver, LocalServer, local_server
from tests.helpers import flow, node
from tests.unit.nodes.conftest import RecordingProvider


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only declares its size (enough for the header check), with no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as state:
        yield state


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    resolver = FakeResolver({"images.test": [["127.0.0.1"]], "inside.test": [["10.1.2.3"]]})
    async with GuardedClient(LOOPBACK_ONLY, resolver=resolver, time_limit=5.0) as http:
        yield Services(LocalBlobStore(tmp_path / "blobs"), RecordingProvider, tmp_path, http)


@pytest.fixture
def run(services: Services) -> Callable[..., Any]:
    async def run_nodes(*nodes: dict[str, Any], edges: list[tuple[str, str]] = []) -> RunResult:  # noqa: B006
        compiled = compile_flow(flow(list(nodes), edges), builtin())
        return await Executor(compiled, services, run_id="t").run()

    return run_nodes


async def test_fetches_and_stores_the_image(
    run: Any, services: Services, server: LocalServer
) -> None:
    result = await run(
        node("name", "text", template="image.png"),
        node("u", "image_url", url=f"http://images.test:{server.port}/{{{{ name.text }}}}"),
    )
    assert result.status == RunStatus.SUCCEEDED, result.error
    ref = result.nodes["u"].outputs["image"]
    assert isinstance(ref, ImageRef)
    assert (ref.media_type, ref.width, ref.height) == ("image/png", 8, 6)
    assert await services.blobs.get(ref.sha256) == PNG
    assert [s.path for s in server.seen] == ["/image.png"]


async def test_is_never_cached() -> None:
    assert builtin().get("image_url").cacheable is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://10.0.0.1/a.png", "refused http://10.0.0.1/: 10.0.0.1 is a private address"),
        ("http://inside.test/a.png", "inside.test resolves to 10.1.2.3, which is a private"),
        ("file:///etc/passwd", "only http and https URLs are fetched"),
        ("http://2130706433/", "is not a standard IPv4 address"),
        ("   ", "the URL is empty"),
    ],
)
async def test_refusals_fail_the_node_with_the_reason(run: Any, url: str, error: str) -> None:
    # the URL comes from a template, so only the run can check it
    result = await run(node("t", "text", template=url), node("u", "image_url", url="{{ t.text }}"))
    assert result.status == RunStatus.FAILED
    assert result.nodes["u"].status == "failed"
    assert error in (result.nodes["u"].error or "")
    assert result.nodes["u"].error_category == "input"  # a published caller gets 422


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("file:///etc/passwd", "refused file:///: only http and https URLs are fetched"),
        ("http://user:pw@images.test/", "credentials in a URL"),
        ("http://0x7f.0.0.1/", "'0x7f.0.0.1' is not a standard IPv4 address"),
    ],
)
def test_a_fixed_url_is_checked_when_the_flow_is_validated(url: str, error: str) -> None:
    with pytest.raises(FlowInvalid) as info:
        compile_flow(flow([node("u", "image_url", url=url)]), builtin())
    [problem] = info.value.problems
    assert (problem.node_id, problem.field) == ("u", "url")
    assert error in problem.message


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/page", None, "did not send a usable image"),
        ("/missing", None, "answered HTTP 404"),
        ("/bomb.png", _png_header(9000, 9000), "more than 64,000,000 pixels"),
        ("/fake.png", b"GIF89a" + b"\0" * 40, "did not send a usable image"),
    ],
)
async def test_bad_answers_fail_the_node(
    run: Any, server: LocalServer, path: str, body: bytes | None, error: str
) -> None:
    if body is not None:
        server.routes[path] = lambda h: _serve(h, body)
    result = await run(node("u", "image_url", url=f"{server.origin}{path}"))
    assert result.status == RunStatus.FAILED
    assert error in (result.nodes["u"].error or "")


async def test_max_bytes_caps_the_download(run: Any, server: LocalServer) -> None:
    result = await run(node("u", "image_url", url=f"{server.origin}/image.png", max_bytes=20))
    assert "the limit is 20 bytes" in (result.nodes["u"].error or "")


def _serve(h: Any, body: bytes) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "image/png")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
