from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plait.engine.context import Services
from plait.engine.executor import Executor
from plait.engine.state import RunResult
from plait.flows.model import Flow
from plait.flows.validate import compile_flow
from plait.media.blobs import LocalBlobStore
from plait.nodes.registry import builtin
from plait.providers.base import ImageProvider, ImageRequest, ImageResult
from plait.providers.preview import PreviewProvider


class RecordingProvider:
    """The preview provider, plus a record of every request (the provider seam)."""

    name = "preview"
    model_list = None  # no key's model list to check

    def __init__(self) -> None:
        self.requests: list[ImageRequest] = []
        self._preview = PreviewProvider()

    async def generate(self, request: ImageRequest) -> ImageResult:
        self.requests.append(request)
        return await self._preview.generate(request)

    async def aclose(self) -> None:
        pass


@pytest.fixture
def provider() -> RecordingProvider:
    return RecordingProvider()


@pytest.fixture
def services(tmp_path: Path, provider: ImageProvider) -> Services:
    return Services(LocalBlobStore(tmp_path / "blobs"), lambda: provider, tmp_path)


@pytest.fixture
def run_flow(services: Services) -> Any:
    async def run(f: Flow, inputs: dict[str, Any] | None = None) -> RunResult:
        compiled = compile_flow(f, builtin())
        return await Executor(compiled, services, run_id="t", run_inputs=inputs).run()

    return run
