"""Many rows per SQLite statement: the same rows stored as executemany would store them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    insert,
    select,
    update,
)

from plait.store.bulk import MAX_ROWS, _chunks, direct_statement
from tests.unit.store.driver_log import LoggingCursor, logging_engine

metadata = MetaData()
tally = Table(
    "tally",
    metadata,
    Column("shelf", String, primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("seen", DateTime(timezone=True), nullable=False),
    Column("note", String, default="none"),
)
INSERT = insert(tally)
ADD = update(tally).where(
    and_(tally.c.shelf == bindparam("at_shelf"), tally.c.slot == bindparam("at_slot"))
)
ADD_COUNT = ADD.values(count=tally.c.count + bindparam("more"))
WHEN = datetime(2026, 11, 26, 4, 5, 6, 789012, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = logging_engine(tmp_path / "bulk.db")
    metadata.create_all(engine)
    LoggingCursor.log = []
    yield engine
    engine.dispose()


def run(engine: Engine, sql: Any, params: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        direct = direct_statement(sql, frozenset(params[0]), conn.dialect)
        assert direct is not None
        direct.execute(conn, params)


def stored(engine: Engine) -> dict[tuple[str, int], tuple[int, datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(select(tally)).all()
    return {(r.shelf, r.slot): (r.count, r.seen.replace(tzinfo=UTC)) for r in rows}


def rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "shelf": f"s{i % 7}",
            "slot": i,
            "count": i,
            "seen": WHEN + timedelta(seconds=i),
            "note": f"n{i}",
        }
        for i in range(count)
    ]


def test_an_insert_of_many_rows_goes_as_a_few_statements_and_stores_every_value(
    engine: Engine,
) -> None:
    run(engine, INSERT, rows(300))
    # 300 = 256 + 32 + 8 + 4
    assert LoggingCursor.log == [("execute", "INSERT", n) for n in (MAX_ROWS, 32, 8, 4)]
    assert stored(engine) == {(r["shelf"], r["slot"]): (r["count"], r["seen"]) for r in rows(300)}


def test_an_update_of_many_rows_matches_each_row_by_its_own_keys(engine: Engine) -> None:
    run(engine, INSERT, rows(40))
    LoggingCursor.log = []
    more = [{"at_shelf": f"s{i % 7}", "at_slot": i, "more": 100 + i} for i in range(0, 40, 2)]
    run(engine, ADD_COUNT, more)
    assert LoggingCursor.log == [("execute", "UPDATE", 16), ("execute", "UPDATE", 4)]
    after = stored(engine)
    for i in range(40):
        expected = i + 100 + i if i % 2 == 0 else i  # odd slots untouched
        assert after[(f"s{i % 7}", i)] == (expected, WHEN + timedelta(seconds=i))


def test_two_updates_of_one_row_apply_in_order_as_executemany_would(engine: Engine) -> None:
    run(engine, INSERT, rows(3))
    LoggingCursor.log = []
    set_count = ADD.values(count=bindparam("value"))
    run(
        engine,
        set_count,
        [
            {"at_shelf": "s1", "at_slot": 1, "value": 10},
            {"at_shelf": "s2", "at_slot": 2, "value": 20},
            {"at_shelf": "s1", "at_slot": 1, "value": 11},  # the same row again: last wins
        ],
    )
    assert LoggingCursor.log == [("executemany", "UPDATE", 3)]
    assert {k: v[0] for k, v in stored(engine).items()} == {
        ("s0", 0): 0,
        ("s1", 1): 11,
        ("s2", 2): 20,
    }


def test_a_statement_with_a_value_the_rows_do_not_give_is_left_to_sqlalchemy(
    engine: Engine,
) -> None:
    with engine.connect() as conn:
        partial = frozenset({"shelf", "slot", "count", "seen"})  # "note" has a default
        assert direct_statement(INSERT, partial, conn.dialect) is None
        literal = update(tally).where(tally.c.shelf == "s1").values(count=bindparam("n"))
        assert direct_statement(literal, frozenset({"n"}), conn.dialect) is None


@pytest.mark.parametrize("total", [1, 2, 3, 255, 256, 257, 1000])
def test_chunks_cover_every_row_once_in_sizes_that_repeat(total: int) -> None:
    pieces = list(_chunks(total, MAX_ROWS))
    assert [start for start, _ in pieces] == [
        sum(size for _, size in pieces[:i]) for i in range(len(pieces))
    ]
    assert sum(size for _, size in pieces) == total
    assert all(size <= MAX_ROWS and size & (size - 1) == 0 for _, size in pieces)
