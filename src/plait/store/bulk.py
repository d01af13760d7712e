"""Rows handed to SQLite many at a time: an INSERT with many VALUES, an UPDATE … FROM VALUES.

The journal gives SQLite the rows of hundreds of runs per statement. The driver's
executemany runs one step per row and lets go of the interpreter lock around each
step; while the event loop's thread is busy, taking the lock back can cost up to the
interpreter's switch interval, so under load a batch of a thousand rows spent most
of a second waiting for the lock. One statement carries up to `MAX_ROWS` rows here,
so a batch waits a few times instead of once per row.

The SQL is SQLAlchemy's, compiled once per statement and set of columns; its values
go through SQLAlchemy's type processing, so they are stored as SQLAlchemy stores them.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ClauseElement, Connection, Dialect, Executable, Insert, Update
from sqlalchemy.sql.compiler import SQLCompiler

MAX_ROWS = 256
_MAX_VARIABLES = 32766  # SQLite ≥ 3.32's limit on a statement's parameters
_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33)


class _Shape(Protocol):
    def sql(self, rows: int) -> str: ...

    def fits(self, rows: list[tuple[Any, ...]]) -> bool: ...


@dataclass(frozen=True)
class _ManyValues:
    """`INSERT INTO t (a, b) VALUES (?, ?), (?, ?), …`"""

    head: str
    group: str

    def sql(self, rows: int) -> str:
        return f"{self.head} VALUES {', '.join([self.group] * rows)}"

    def fits(self, rows: list[tuple[Any, ...]]) -> bool:
        return True


@dataclass(frozen=True)
class _UpdateFrom:
    """`UPDATE t SET a=v.column1 FROM (VALUES (?, ?), …) AS v WHERE t.id = v.column2`"""

    update: str
    where: str
    width: int
    keys: slice  # the positions of the values the WHERE clause compares

    def sql(self, rows: int) -> str:
        group = f"({', '.join('?' * self.width)})"
        return f"{self.update} FROM (VALUES {', '.join([group] * rows)}) AS v WHERE {self.where}"

    def fits(self, rows: list[tuple[Any, ...]]) -> bool:
        """Each row must update its own target: with two rows for one, SQLite would apply
        either (executemany applies both, in order)."""
        return len({row[self.keys] for row in rows}) == len(rows)


@dataclass(frozen=True)
class DirectStatement:
    """A statement as the driver takes it: SQL text, positional names, value processors,
    and, where SQLite can take many rows in one statement, how."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    shape: _Shape | None
    _texts: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def execute(self, conn: Connection, params: Sequence[dict[str, Any]]) -> None:
        pairs = tuple(zip(self.names, self.processors, strict=True))
        rows = [tuple(p(r[n]) if p else r[n] for n, p in pairs) for r in params]
        cursor = conn.connection.cursor()
        try:
            if self.shape is None or len(rows) == 1 or not self.shape.fits(rows):
                cursor.executemany(self.sql, rows)
                return
            for start, size in _chunks(len(rows), self._max_rows):
                values = [v for row in rows[start : start + size] for v in row]
                cursor.execute(self._text(size), values)
        finally:
            cursor.close()

    @property
    def _max_rows(self) -> int:
        return max(1, min(MAX_ROWS, _MAX_VARIABLES // max(1, len(self.names))))

    def _text(self, rows: int) -> str:
        text = self._texts.get(rows)
        if text is None:
            assert self.shape is not None
            text = self._texts[rows] = self.shape.sql(rows)
        return text


def _chunks(total: int, most: int) -> Iterator[tuple[int, int]]:
    """(start, size) pieces of `total` rows, each size a power of two up to `most`: few
    distinct statement texts, so the driver's statement cache keeps them all prepared."""
    start = 0
    while start < total:
        size = min(most, 1 << ((total - start).bit_length() - 1))
        yield start, size
        start += size


@functools.lru_cache(maxsize=256)
def direct_statement(
    sql: Executable, keys: frozenset[str], dialect: Dialect
) -> DirectStatement | None:
    """`sql` compiled for rows with these `keys`; None when SQLAlchemy must run it
    (a value the rows do not give, such as a column default or a literal)."""
    assert isinstance(sql, ClauseElement)
    compiled = sql.compile(dialect=dialect, column_keys=sorted(keys))
    assert isinstance(compiled, SQLCompiler)
    names = compiled.positiontup
    if not compiled.positional or names is None or not set(names) <= keys:
        return None
    processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    text = str(compiled)
    return DirectStatement(text, tuple(names), processors, _shape(sql, text, len(names)))


def _shape(sql: Executable, text: str, width: int) -> _Shape | None:
    """How SQLite takes many rows of this statement at once; None: one row per step."""
    if text.count("?") != width:
        return None
    if isinstance(sql, Insert):
        head, _, group = text.rpartition(" VALUES ")
        if head and group == f"({', '.join('?' * width)})":
            return _ManyValues(head, group)
        return None
    if isinstance(sql, Update) and _UPDATE_FROM and text.count(" WHERE ") == 1:
        columns = iter(range(1, width + 1))
        named = "".join(f"v.column{next(columns)}" if c == "?" else c for c in text)
        update, _, where = named.partition(" WHERE ")
        first = width - where.count("v.column")
        return _UpdateFrom(update, where, width, slice(first, width))
    return None


__all__ = ["MAX_ROWS", "DirectStatement", "direct_statement"]
