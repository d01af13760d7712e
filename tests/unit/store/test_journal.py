"""The journal: group commit with statements batched, order kept per caller, failures isolated."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    event,
    insert,
    select,
    update,
)

from plait.store.journal import Folds, Journal, Statement
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
KEYED_INSERT = Statement(insert(items), order=1, keyed_by="id")
FOLDING_SET = Statement(SET_STATE.sql, order=2, folds=Folds(KEYED_INSERT, key="item"))
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
    """Each statement the database driver was sent (by SQLAlchemy or directly)."""
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
    # the insert fills a default, so SQLAlchemy sends it (one executemany); the update goes
    # to the driver directly, many rows per statement (32 + 16 + 2)
    assert executions == [
        ("executemany", "INSERT", 50),
        ("execute", "UPDATE", 32),
        ("execute", "UPDATE", 16),
        ("execute", "UPDATE", 2),
    ]
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


async def test_an_update_of_a_row_inserted_in_the_same_batch_folds_into_the_insert(
    engine: Engine, executions: list[tuple[str, str, int]]
) -> None:
    journal = Journal(lambda: engine)
    when = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    posted = []
    for i in range(10):  # as runs that end before their rows are written
        posted.append(journal.post(KEYED_INSERT.rows({"id": i, "state": "running", "seen": when})))
        posted.append(journal.post(FOLDING_SET.rows({"item": i, "state": "done"})))
    await asyncio.gather(*posted)
    await journal.write(FOLDING_SET.rows({"item": 3, "state": "again"}))  # landed: an update
    await journal.close()
    assert executions == [
        ("execute", "INSERT", 8),
        ("execute", "INSERT", 2),
        ("executemany", "UPDATE", 1),
    ]
    assert states(engine) == {**dict.fromkeys(range(10), "done"), 3: "again"}


async def test_a_fold_never_reaches_back_past_a_function_write(engine: Engine) -> None:
    journal = Journal(lambda: engine)
    seen: list[dict[int, str]] = []

    def look(conn: Connection) -> None:
        seen.append({row.id: row.state for row in conn.execute(select(items))})

    when = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    first = journal.post((KEYED_INSERT.rows({"id": 1, "state": "running", "seen": when}), look))
    second = journal.post(FOLDING_SET.rows({"item": 1, "state": "done"}))
    await asyncio.gather(first, second)
    await journal.close()
    assert seen == [{1: "running"}]  # inserted before the function ran, updated after it
    assert states(engine) == {1: "done"}


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


async def test_rows_that_give_every_value_skip_sqlalchemy_and_store_the_same(
    engine: Engine, executions: list[tuple[str, str, int]]
) -> None:
    when = datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC)
    through_sqlalchemy: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        through_sqlalchemy.append(sql.split()[0])

    with engine.begin() as conn:  # the reference: SQLAlchemy's own processing of the values
        conn.execute(insert(items), [{"id": 1, "state": "queued", "seen": when}])
    journal = Journal(lambda: engine)
    await journal.write(INSERT.rows({"id": 2, "state": "queued", "seen": when}))
    await journal.close()
    assert through_sqlalchemy == ["INSERT"]  # the journal's insert went to the driver
    assert executions[-1] == ("executemany", "INSERT", 1)
    with engine.connect() as conn:
        seen = {row.id: row.seen for row in conn.execute(select(items))}
    assert seen[2] == seen[1]
    assert seen[2].replace(tzinfo=UTC) == when


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
