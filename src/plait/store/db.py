"""Opening the database: an async engine, SQLite tuned for concurrent use, migrations applied."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from plait.errors import PlaitError
from plait.store.claims import Claims
from plait.store.commit_process import CommitProcess
from plait.store.journal import Journal
from plait.store.migrations.head import HEAD
from plait.store.tables import Base
from plait.store.writer import Writer

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    def __init__(self, url: str, writer: Writer | None = None, *, commit_apart: bool = False):
        """`commit_apart`: the journal commits in a process of its own (SQLite files;
        see `plait.store.commit_process`), for servers: no interpreter lock shared."""
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, **_engine_options(url))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        apart = commit_apart and sqlite_file(url) is not None
        self.committer = CommitProcess(url, _tables) if apart else None
        self.journal = Journal(partial(sync_engine, url), writer=writer, committer=self.committer)
        self.claims = Claims(partial(sync_engine, url))  # conditional UPDATEs: leases
        self.stored_documents: set[str] = set()  # flow documents known to be stored

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (run at every start; cheap when current)."""
        try:
            async with self.engine.connect() as conn:
                current = await conn.run_sync(_revision)
            if current != HEAD:
                async with self.engine.begin() as conn:
                    await conn.run_sync(_upgrade)
        except OSError as exc:
            raise PlaitError(f"cannot open the database {self.url}: {exc}") from None

    @asynccontextmanager
    async def new_session(self, *, after_journal: bool = True) -> AsyncIterator[AsyncSession]:
        """A session that sees every write handed to the journal before it was opened
        (runs post their last writes without waiting for them). `after_journal=False`
        skips that wait, for reads of tables the journal never writes (accounts,
        publications, the node cache) on paths every request takes."""
        if after_journal:
            await self.journal.flush()
        async with self.session() as session:
            yield session

    async def close(self) -> None:
        await self.journal.close()
        await self.claims.close()
        await self.engine.dispose()


async def open_database(
    url: str, writer: Writer | None = None, *, commit_apart: bool = False
) -> Database:
    """`writer`: the thread the journal commits on (see `plait.store.writer`)."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(url, writer, commit_apart=commit_apart)
    await db.migrate()
    if db.committer is not None:
        await asyncio.to_thread(db.committer.start)
    return db


def sync_engine(url: str) -> Engine:
    """A blocking engine on the database `url` names, for the journal."""
    engine = create_engine(_sync_url(url), **_engine_options(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _tables() -> MetaData:
    return Base.metadata


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for any other database, or one in memory."""
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return None if path in ("", ":memory:") or "mode=memory" in url else Path(path)


def _sync_url(url: str) -> str:
    """The same database through a blocking driver."""
    for async_driver, sync_driver in (("+aiosqlite", ""), ("+asyncpg", "+psycopg")):
        if async_driver in url.split("://", 1)[0]:
            return url.replace(async_driver, sync_driver, 1)
    return url


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # imported only when migrating: it is slow to import

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _revision(connection: Connection) -> str | None:
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):  # a new database: no version table yet
        return None


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
