from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from plait.engine.context import Services
from plait.media.blobs import LocalBlobStore
from plait.providers.preview import PreviewProvider
from tests.unit.engine.nodes_for_tests import Gate, Hang, Reach


@pytest.fixture
def services(tmp_path: Path) -> Services:
    provider = PreviewProvider()
    return Services(LocalBlobStore(tmp_path / "blobs"), lambda: provider, tmp_path)


@pytest.fixture(autouse=True)
def _reset_test_nodes() -> Iterator[None]:
    Gate.barrier, Gate.calls, Gate.entered, Hang.started, Reach.calls = None, [], None, None, []
    Reach.hold = Reach.entered = None
    yield
    Gate.barrier, Gate.calls, Gate.entered, Hang.started, Reach.calls = None, [], None, None, []
    Reach.hold = Reach.entered = None
