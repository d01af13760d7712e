"""Conditional UPDATEs whose row counts decide something (claims on runs, batches and
callbacks, their renewals and releases), batched like the journal's writes.

Every run a worker takes is claimed with one of these; through the async engine each
cost a pool checkout, a greenlet switch per step and a commit of its own, and under load
the claims of concurrent runs queued on SQLite's write lock (`benchmarks/trigger.py`'s
image flow spent more than twice its CPU per call). Here the claims pending at a moment
run in one transaction on a connection of their own, in a thread of their own, and
commit once; each caller gets its statement's row count. A failed batch is retried one
statement at a time, so one bad statement fails only its own caller.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Executable

from plait.store.kept import KeptConnection
from plait.store.writer import Writer

_Statement = tuple[Executable, dict[str, Any]]


@dataclass
class _Claim:
    statement: Executable
    params: dict[str, Any]
    done: asyncio.Future[int] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Claims:
    def __init__(self, engine: Callable[[], Engine]):
        self._kept = KeptConnection(engine)
        self._thread = Writer()
        self._pending: list[_Claim] = []
        self._drainer: asyncio.Task[None] | None = None

    async def execute(self, statement: Executable, params: dict[str, Any] | None = None) -> int:
        """Run the statement in the next batch; the number of rows it changed."""
        claim = _Claim(statement, params or {})
        self._pending.append(claim)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await claim.done

    async def close(self) -> None:
        if self._drainer is not None:
            await asyncio.gather(self._drainer, return_exceptions=True)
        await self._thread.run(self._kept.dispose)
        self._thread.close()

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            statements = [(claim.statement, claim.params) for claim in batch]
            try:
                counts = await self._thread.run(functools.partial(self._run, statements))
            except Exception as exc:  # a bug outside the statements: their callers hear of it
                counts = [exc] * len(batch)
            for claim, count in zip(batch, counts, strict=True):
                if claim.done.done():
                    continue
                if isinstance(count, Exception):
                    claim.done.set_exception(count)
                else:
                    claim.done.set_result(count)

    def _run(self, statements: Sequence[_Statement]) -> list[int | Exception]:
        """In the thread: all in one transaction, else one at a time."""
        conn = self._kept.get()
        try:
            with conn.begin():
                return [_count(conn, statement) for statement in statements]
        except Exception as exc:
            if len(statements) == 1:
                return [exc]
            return [self._run([statement])[0] for statement in statements]


def _count(conn: Connection, statement: _Statement) -> int:
    result: Any = conn.execute(*statement)
    return int(result.rowcount)
