from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
