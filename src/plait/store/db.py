"""Opening the database: an async engine, SQLite tuned for concurrent use, migrations applied."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    create_engine,
    event,
    inspect,
    make_url,
    text,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from plait.errors import PlaitError
from plait.settings import PoolSize
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
    def __init__(
        self,
        url: str,
        writer: Writer | None = None,
        *,
        commit_apart: bool = False,
        pool: PoolSize | None = None,
    ):
        """`commit_apart`: the journal commits in a process of its own (SQLite files;
        see `plait.store.commit_process`), for servers: no interpreter lock shared.
        `pool`: the async engine's pool on a database server (SQLAlchemy's default if None)."""
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, **_engine_options(url, pool))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        apart = commit_apart and sqlite_file(url) is not None
        self.committer = CommitProcess(url, _tables) if apart else None
        self.journal = Journal(partial(sync_engine, url), writer=writer, committer=self.committer)
        self.claims = Claims(partial(sync_engine, url))  # conditional UPDATEs: leases
        self.stored_documents: set[str] = set()  # flow documents known to be stored

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (run at every start; cheap when current).

        Processes starting together take turns: on PostgreSQL under an advisory lock, on a
        SQLite file under a lock file beside it; the one that comes second finds the schema
        current. On SQLite the turn starts before the first connection: a new file's first
        connections switch it to WAL, which fails at once ("database is locked") for all but
        one when they race."""
        try:
            if sqlite_file(self.url) is None:
                async with self.engine.connect() as conn:
                    if await conn.run_sync(_revision) == HEAD:
                        return
            async with migration_lock(self), self.engine.begin() as conn:
                if await conn.run_sync(_revision) != HEAD:
                    await conn.run_sync(_upgrade)
        except (OSError, OperationalError) as exc:
            raise PlaitError(
                f"cannot open the database {safe_url(self.url)}: {exc}; check "
                "PLAIT_DATABASE_URL and that the database server is running"
            ) from None

    async def ping(self) -> None:
        """Raise unless the database answers a query."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

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
    url: str,
    writer: Writer | None = None,
    *,
    commit_apart: bool = False,
    pool: PoolSize | None = None,
) -> Database:
    """`writer`: the thread the journal commits on (see `plait.store.writer`)."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(url, writer, commit_apart=commit_apart, pool=pool)
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
    """The same database through a blocking driver (psycopg 3 serves both: unchanged)."""
    if "+aiosqlite" in url.split("://", 1)[0]:
        return url.replace("+aiosqlite", "", 1)
    return url


def is_postgres(url: str) -> bool:
    return url.split("://", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def safe_url(url: str) -> str:
    """`url` without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


# any number the same for every Plait process: "plait" in ASCII
_MIGRATION_LOCK = 0x706C616974


@asynccontextmanager
async def migration_lock(db: Database) -> AsyncIterator[None]:
    """Held by one process at a time while it migrates `db`."""
    if db.engine.dialect.name == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            await conn.commit()
            try:
                yield
            finally:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK}
                )
                await conn.commit()
        return
    path = sqlite_file(db.url)
    if path is None:  # in memory: one process by definition
        yield
        return
    lock = await asyncio.to_thread(_lock_file, path.with_name(path.name + ".migrate-lock"))
    try:
        yield
    finally:
        lock.close()  # closing the file releases the lock


def _lock_file(path: Path) -> IO[bytes]:
    """Open `path` and wait for its exclusive lock."""
    import fcntl

    handle = path.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    except BaseException:
        handle.close()
        raise
    return handle


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # imported only when migrating: it is slow to import

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):  # a new database
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def _engine_options(url: str, pool: PoolSize | None = None) -> dict[str, Any]:
    """SQLite: a 30 s busy wait. A database server: connections checked before use, and a
    pool keeping `pool.size` of them (one opened past them, for a burst, is closed when
    given back; opening one costs a server process on PostgreSQL)."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    sized = {} if pool is None else {"pool_size": pool.size, "max_overflow": pool.overflow}
    return {"pool_pre_ping": True, **sized}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
