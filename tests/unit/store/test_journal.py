"""The journal: group commit with statements batched, order kept per caller, failures isolated."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)

from plait.store.journal import Journal, Statement
from tests.unit.store.driver_log import LoggingCursor, logging_engine

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("state", String),
    Column("seen", DateTime(timezone=True), default=lambda: datetime.now(UTC)),
)
INSERT = Statement(insert(items), order=1)
SET_STATE = Statement(update(items).where(items.c.id == bindparam("item")), order=2)
DROP_UNLESS_KEPT = Statement(
    delete(items).where(items.c.id == bindparam("item"), items.c.state != "kept"), order=3
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = logging_engine(tmp_path / "journal.db")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def executions(engine: Engine) -> list[tuple[str, str, int]]:
    """Each statement the database driver was sent."""
    LoggingCursor.log = []
    return LoggingCursor.log


def states(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return {row.id: row.state for row in conn.execute(select(items))}


async def test_rows_of_many_callers_go_as_a_few_statements_each(
    engine: Engine, executions: list[tuple[str, str, int]]
) -> None:
    journal = Journal(lambda: engine)
    posted = []
    for i in range(50):  # interleaved, as concurrent runs hand them in
        posted.append(journal.post(INSERT.rows({"id": i, "state": "queued"})))
        posted.append(journal.post(SET_STATE.rows({"item": i, "state": "done"})))
    await asyncio.gather(*posted)
    await journal.close()
    assert executions == [("executemany", "INSERT", 50), ("executemany", "UPDATE", 50)]
    assert states(engine) == dict.fromkeys(range(50), "done")


async def test_a_caller_s_writes_keep_their_order_around_function_writes(engine: Engine) -> None:
    journal = Journal(lambda: engine)
    seen: list[dict[int, str]] = []

    def look(conn: Connection) -> None:
        seen.append({row.id: row.state for row in conn.execute(select(items))})

    first = journal.post((INSERT.rows({"id": 1, "state": "queued"}), look))
    second = journal.post(SET_STATE.rows({"item": 1, "state": "running"}))
    await asyncio.gather(first, second)
    await journal.close()
    assert seen == [{1: "queued"}]  # the function ran after the insert, before the update
    assert states(engine) == {1: "running"}


async def test_a_bad_write_fails_only_its_caller(engine: Engine) -> None:
    journal = Journal(lambda: engine)
    await journal.write(INSERT.rows({"id": 1, "state": "old"}))
    good = journal.post(INSERT.rows({"id": 2, "state": "new"}))
    bad = journal.post(INSERT.rows({"id": 1, "state": "duplicate"}))
    also_good = journal.post(SET_STATE.rows({"item": 2, "state": "newer"}))
    results = await asyncio.gather(good, bad, also_good, return_exceptions=True)
    await journal.close()
    assert results[0] is None
    assert results[2] is None
    assert "UNIQUE constraint failed" in str(results[1])
    assert states(engine) == {1: "old", 2: "newer"}


async def test_rows_with_different_columns_are_not_merged(engine: Engine) -> None:
    journal = Journal(lambda: engine)
    await asyncio.gather(
        journal.post(INSERT.rows({"id": 1, "state": "a"})),
        journal.post(INSERT.rows({"id": 2})),
        journal.post(INSERT.rows()),  # nothing to write
    )
    await journal.close()
    assert states(engine) == {1: "a", 2: None}


async def test_values_the_statement_holds_and_column_defaults_apply(engine: Engine) -> None:
    journal = Journal(lambda: engine)
    await journal.write(
        (
            INSERT.rows({"id": 1, "state": "kept"}, {"id": 2, "state": "other"}),
            DROP_UNLESS_KEPT.rows({"item": 1}, {"item": 2}),
        )
    )
    await journal.close()
    with engine.connect() as conn:
        rows = conn.execute(select(items)).all()
    assert [(r.id, r.state) for r in rows] == [(1, "kept")]  # the literal 'kept' was bound
    assert rows[0].seen is not None  # the column's Python default was filled in


async def test_room_holds_callers_back_while_too_many_writes_wait(
    engine: Engine, tmp_path: Path
) -> None:
    journal = Journal(lambda: engine, max_batch=2, max_pending=3)
    blocker = sqlite3.connect(tmp_path / "journal.db", isolation_level=None, timeout=30)
    blocker.execute("BEGIN IMMEDIATE")  # the journal's commits wait behind this lock
    posted = [journal.post(INSERT.rows({"id": i, "state": "queued"})) for i in range(6)]
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(journal.room(), 0.2)  # 6 waiting > 3
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await asyncio.wait_for(journal.room(), 30)  # the batches land: room again
    await asyncio.gather(*posted)
    await journal.close()
    assert len(states(engine)) == 6


async def test_an_error_outside_the_writes_fails_their_callers_instead_of_hanging_them() -> None:
    def no_engine() -> Engine:
        raise RuntimeError("the database cannot be opened")

    journal = Journal(no_engine)
    with pytest.raises(RuntimeError, match="cannot be opened"):
        await asyncio.wait_for(journal.write(INSERT.rows({"id": 1, "state": "queued"})), 30)


async def test_a_committer_that_breaks_fails_its_writes_instead_of_hanging_them(
    engine: Engine,
) -> None:
    class Broken:
        def commit(self, writes: object) -> None:
            raise RuntimeError("a bug in the committer")

        def close(self) -> None:
            pass

    journal = Journal(lambda: engine, committer=Broken())
    with pytest.raises(RuntimeError, match="a bug in the committer"):
        await asyncio.wait_for(journal.write(INSERT.rows({"id": 1, "state": "queued"})), 30)
    await journal.close()
