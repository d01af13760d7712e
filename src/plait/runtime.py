"""The assembled runtime: settings, database, blob store, image provider and runner.

The CLI, the server and workers each open one of these.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from plait.engine.context import Services
from plait.engine.runner import Runner
from plait.media import work
from plait.media.blobs import BlobStore
from plait.net.client import GuardedClient
from plait.net.policy import NetPolicy
from plait.nodes.registry import Registry, builtin
from plait.providers.base import ImageProvider
from plait.providers.factory import make_provider
from plait.scale import make_blobs
from plait.settings import Backend, Settings
from plait.store.db import Database, open_database, sqlite_file
from plait.store.private import make_private
from plait.store.writer import Writer


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore
    registry: Registry
    provider: LazyProvider
    http: GuardedClient

    @property
    def backend(self) -> Backend:
        return self.provider.backend

    def runner(self, flow_dir: Path | None = None, allow_dirs: tuple[Path, ...] = ()) -> Runner:
        """A runner whose flows read files under `flow_dir` and `allow_dirs` (none: the
        server's, which read only uploaded images)."""
        services = Services(self.blobs, self.provider, flow_dir, self.http, allow_dirs)
        return Runner(self.db, services, self.backend)


class LazyProvider:
    """Creates the provider on first use, so flows without Image nodes need no key.

    A key stored through the server (`use_stored_key`) serves when the environment
    sets none; changing it makes the next run use a new provider.
    """

    def __init__(self, settings: Settings, backend: Backend | None):
        self._settings = settings
        self._forced = backend
        self._stored_key: str | None = None
        self._provider: ImageProvider | None = None
        self._retired: list[ImageProvider] = []

    @property
    def backend(self) -> Backend:
        if self._forced is not None:
            return self._forced
        if self._settings.image_backend_choice is not None:
            return self._settings.image_backend_choice
        return "gemini" if self.key_source is not None else "preview"

    @property
    def key_source(self) -> str | None:
        if self._settings.gemini_api_key is not None:
            return "environment"
        return "stored" if self._stored_key else None

    def current_key(self) -> str | None:
        if self._settings.gemini_api_key is not None:
            return self._settings.gemini_api_key.get_secret_value()
        return self._stored_key

    def use_stored_key(self, key: str | None) -> None:
        if key == self._stored_key:
            return
        self._stored_key = key
        if self._provider is not None:  # runs in flight keep theirs; closed at shutdown
            self._retired.append(self._provider)
            self._provider = None

    def __call__(self) -> ImageProvider:
        if self._provider is None:
            self._provider = make_provider(self._effective_settings(), self.backend)
        return self._provider

    def _effective_settings(self) -> Settings:
        if self._settings.gemini_api_key is None and self._stored_key:
            return self._settings.model_copy(update={"gemini_api_key": SecretStr(self._stored_key)})
        return self._settings

    async def aclose(self) -> None:
        for provider in [*self._retired, *([self._provider] if self._provider else [])]:
            await provider.aclose()


@asynccontextmanager
async def open_runtime(
    settings: Settings | None = None,
    backend: Backend | None = None,
    *,
    commit_apart: bool = False,
    concurrency: int | None = None,
) -> AsyncIterator[Runtime]:
    """`commit_apart`: the journal commits in a process of its own (a server's choice:
    see `plait.store.commit_process`). `concurrency`: the runs this process executes at
    once, if not `PLAIT_RUN_CONCURRENCY` (it sizes the database's connection pool)."""
    settings = settings or Settings()
    http = GuardedClient(NetPolicy.parse(settings.net_allow))
    provider = LazyProvider(settings, backend)
    make_private(settings.data_dir, sqlite_file(settings.sqlalchemy_url))
    work.configure(settings.image_memory_mb * work.MB)
    writer = Writer()  # blob files and commits, in order (see plait.store.writer)
    db = await open_database(
        settings.sqlalchemy_url,
        writer,
        commit_apart=commit_apart,
        pool=settings.database_pool(concurrency),
    )
    blobs = make_blobs(settings, writer)
    try:
        yield Runtime(settings, db, blobs, builtin(), provider, http)
    finally:
        await http.aclose()
        await provider.aclose()
        try:
            await blobs.close()
        finally:
            await db.close()
            writer.close()
