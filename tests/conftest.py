from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plait.store.db import Database, open_database

pytest_plugins = ["tests.fakes.fixtures"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="browser tests save docs/screenshots/*.png (scripts/screenshots.sh)",
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database of its own."""
    database = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'plait.db'}")
    yield database
    await database.close()
