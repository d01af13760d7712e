"""The assembled runtime: settings, database, blob store, image provider and runner.

The CLI, the server and workers each open one of these.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from plait.engine.context import Services
from plait.engine.runner import Runner
from plait.media.blobs import LocalBlobStore
from plait.net.client import GuardedClient
from plait.net.policy import NetPolicy
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
    provider: LazyProvider
    http: GuardedClient

    def runner(self, flow_dir: Path | None = None) -> Runner:
        services = Services(self.blobs, self.provider, flow_dir, self.http)
        return Runner(self.db, services, self.backend)


class LazyProvider:
    """Creates the provider on first use, so flows without Image nodes need no key."""

    def __init__(self, settings: Settings, backend: Backend):
        self._settings = settings
        self._backend = backend
        self._provider: ImageProvider | None = None

    def __call__(self) -> ImageProvider:
        if self._provider is None:
            self._provider = make_provider(self._settings, self._backend)
        return self._provider

    async def aclose(self) -> None:
        if self._provider is not None:
            await self._provider.aclose()


@asynccontextmanager
async def open_runtime(
    settings: Settings | None = None, backend: Backend | None = None
) -> AsyncIterator[Runtime]:
    settings = settings or Settings()
    backend = backend or settings.image_backend
    http = GuardedClient(NetPolicy.parse(settings.net_allow))
    provider = LazyProvider(settings, backend)
    db = await open_database(settings.sqlalchemy_url)
    blobs = LocalBlobStore(settings.blob_dir)
    try:
        yield Runtime(settings, db, blobs, builtin(), backend, provider, http)
    finally:
        await http.aclose()
        await provider.aclose()
        await db.close()
