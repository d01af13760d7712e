"""The assembled runtime: settings, database, blob store, image provider and runner.

The CLI, the server and workers each open one of these.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from plait.engine.context import Services
from plait.engine.runner import Runner
from plait.media.blobs import LocalBlobStore
from plait.nodes.registry import Registry, builtin
from plait.providers.base import ImageProvider
from plait.providers.factory import make_provider
from plait.settings import Backend, Settings
from plait.store.db import Database, open_database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: LocalBlobStore
    registry: Registry
    backend: Backend

    def runner(self, flow_dir: Path | None = None) -> Runner:
        services = Services(self.blobs, self._provider(), flow_dir)
        return Runner(self.db, services, self.backend)

    def _provider(self) -> _LazyProvider:
        return _LazyProvider(self.settings, self.backend)


class _LazyProvider:
    """Creates the provider on first use, so flows without Image nodes need no key."""

    def __init__(self, settings: Settings, backend: Backend):
        self._make = cache(lambda: make_provider(settings, backend))

    def __call__(self) -> ImageProvider:
        return self._make()


@asynccontextmanager
async def open_runtime(
    settings: Settings | None = None, backend: Backend | None = None
) -> AsyncIterator[Runtime]:
    settings = settings or Settings()
    db = await open_database(settings.sqlalchemy_url)
    try:
        yield Runtime(
            settings=settings,
            db=db,
            blobs=LocalBlobStore(settings.blob_dir),
            registry=builtin(),
            backend=backend or settings.image_backend,
        )
    finally:
        await db.close()
