"""A SQLite connection that logs each statement its driver is sent, for tests that count them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Engine, create_engine


class LoggingCursor(sqlite3.Cursor):
    """Logs (call, verb, rows): `execute` or `executemany`, the SQL's first word, and how
    many rows it carries (parameter sets of an executemany, VALUES groups of one statement)."""

    log: ClassVar[list[tuple[str, str, int]]] = []

    def execute(self, sql: str, parameters: Any = (), /) -> LoggingCursor:
        self.log.append(("execute", sql.split()[0], max(1, sql.count("(?"))))
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> LoggingCursor:
        rows = list(parameters)
        self.log.append(("executemany", sql.split()[0], len(rows)))
        return super().executemany(sql, rows)


class LoggingConnection(sqlite3.Connection):
    def cursor(self, factory: Any = LoggingCursor) -> Any:
        return super().cursor(factory)


def logging_engine(path: Path) -> Engine:
    """An engine on the SQLite file `path` whose statements land in `LoggingCursor.log`."""
    return create_engine(f"sqlite:///{path}", connect_args={"factory": LoggingConnection})
