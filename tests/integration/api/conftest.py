from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.gemini import FakeGemini
from tests.server import LiveServer, server_settings


def _shared(request: pytest.FixtureRequest) -> bool:
    """A test module sets `SHARED_SERVER = True` when its tests each make, and look only
    at, their own flows: they share one server (and its admin session) instead of each
    starting one."""
    return bool(getattr(request.module, "SHARED_SERVER", False))


def _serving(data_dir: Path) -> Iterator[LiveServer]:
    with LiveServer(server_settings(data_dir, PLAIT_BASE_URL=None)) as live:
        live.settings.base_url = live.url  # absolute links point at this server
        yield live


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serving(tmp_path_factory.mktemp("shared") / "data")


@pytest.fixture(scope="module")
def module_admin(module_server: LiveServer) -> Iterator[httpx.Client]:
    with module_server.admin() as client:
        yield client


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of this test's own, even in a module whose tests share one."""
    yield from _serving(tmp_path / "data")


@pytest.fixture
def own_admin(own_server: LiveServer) -> Iterator[httpx.Client]:
    with own_server.admin() as client:
        yield client


@pytest.fixture
def server(request: pytest.FixtureRequest) -> LiveServer:
    live: LiveServer = request.getfixturevalue(
        "module_server" if _shared(request) else "own_server"
    )
    return live


@pytest.fixture
def admin(request: pytest.FixtureRequest, server: LiveServer) -> Iterator[httpx.Client]:
    """Signed in to `server` (a module may define its own `server`)."""
    if _shared(request):
        yield request.getfixturevalue("module_admin")
        return
    with server.admin() as client:
        yield client


@pytest.fixture
def gemini_server(tmp_path: Path, gemini_fake: FakeGemini) -> Iterator[LiveServer]:
    """A server whose image calls go to the fake Gemini (a test file may define its own)."""
    settings = server_settings(
        tmp_path / "data",
        PLAIT_BASE_URL=None,
        PLAIT_IMAGE_BACKEND="gemini",
        GEMINI_API_KEY="k",
        PLAIT_GEMINI_BASE_URL=gemini_fake.base_url,
    )
    with LiveServer(settings) as live:
        live.settings.base_url = live.url  # absolute links point at this server
        yield live
