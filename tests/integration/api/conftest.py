from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.gemini import FakeGemini
from tests.server import LiveServer, server_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(server_settings(tmp_path / "data", PLAIT_BASE_URL=None)) as live:
        live.settings.base_url = live.url  # absolute links point at this server
        yield live


@pytest.fixture
def admin(server: LiveServer) -> Iterator[httpx.Client]:
    client = server.admin()
    yield client
    client.close()


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
