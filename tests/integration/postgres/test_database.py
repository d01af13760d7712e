"""PostgreSQL as Plait's database: every migration applies, the schema matches the code,
concurrent starts take turns, and the journal commits through the same driver."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, select, text

from plait.errors import PlaitError
from plait.store.db import Database, open_database, sync_engine
from plait.store.migrations.head import HEAD
from plait.store.tables import Base, StoredSetting


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_the_migrations_build_exactly_the_declared_tables_on_postgres(
    postgres_url: str,
) -> None:
    db = await open_database(postgres_url)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert version == HEAD
    finally:
        await db.close()


async def test_the_journal_commits_through_psycopg_on_the_same_url(postgres_url: str) -> None:
    assert "+psycopg" in postgres_url
    db = await open_database(postgres_url)
    try:
        row = {"key": "k", "value": "v"}
        await db.journal.write(lambda conn: conn.execute(insert(StoredSetting), row))
        async with db.new_session() as session:
            assert await session.scalar(select(StoredSetting.value)) == "v"
        assert sync_engine(postgres_url).dialect.driver == "psycopg"
        assert db.engine.dialect.driver == "psycopg"
    finally:
        await db.close()


async def _start_together(url: str, processes: int) -> None:
    opened: list[Database] = await asyncio.gather(*(open_database(url) for _ in range(processes)))
    for db in opened:
        await db.close()


async def test_databases_opened_together_on_a_fresh_postgres_all_come_up(
    postgres_url: str,
) -> None:
    await _start_together(postgres_url, 4)
    db = await open_database(postgres_url)
    try:
        async with db.engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        await db.close()


async def test_databases_opened_together_on_a_fresh_sqlite_file_all_come_up(
    tmp_path: Path,
) -> None:
    await _start_together(f"sqlite+aiosqlite:///{tmp_path / 'plait.db'}", 4)


async def test_an_unreachable_database_is_a_clear_error(postgres_url: str) -> None:
    port = postgres_url.rsplit(":", 1)[1].split("/", 1)[0]
    url = postgres_url.replace(f":{port}/", ":1/").replace("postgres@", "postgres:hunter2@")
    with pytest.raises(PlaitError) as refused:
        await open_database(url)
    assert "PLAIT_DATABASE_URL" in str(refused.value)
    assert "hunter2" not in str(refused.value)
