"""One connection of an engine, made on first use and kept open (no pool round trip per
batch), made again if it was lost: what the journal and the claims each commit on."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine


class KeptConnection:
    def __init__(self, make_engine: Callable[[], Engine]):
        self._make_engine = make_engine
        self.engine: Engine | None = None
        self._conn: Connection | None = None

    def get(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            if self.engine is None:
                self.engine = self._make_engine()
            self._conn = self.engine.connect()
        return self._conn

    def dispose(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self.engine is not None:
            self.engine.dispose()
