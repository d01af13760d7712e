"""Group commit: the writes of many concurrent runs in one transaction.

Every run writes a few small rows (queued, running, one per node, totals). Done
one transaction each through the async driver, concurrent runs queue on the
database's single writer and every statement pays a thread hand-off. The journal
is the one writer: callers hand it write operations; a task gives all that are
pending to one database thread, which runs them in one transaction and commits,
then wakes those that wait. A failed batch is retried one write at a time, so one
bad write fails only its own caller.

A write is a function of a connection, or `Rows`: a prepared SQLAlchemy Core statement
with its parameter sets. Within a batch, the `Rows` of one statement are executed
together, as one executemany (a few statements for hundreds of runs), statements in
their declared `order`; writes that are functions run where they were handed in, after
everything before them. So each caller must hand in its own `Rows` in ascending `order`
(a run's writes do: queued, running, nodes, totals), and order is kept for each caller.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Executable

from plait.store.kept import KeptConnection
from plait.store.writer import Writer

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Statement:
    """A statement executed with many parameter sets; `order` places it within a batch."""

    sql: Executable
    order: int

    def rows(self, *params: dict[str, Any]) -> Rows:
        return Rows(self, params)


@dataclass(frozen=True, slots=True)
class Rows:
    statement: Statement
    params: Sequence[dict[str, Any]]


Step = Callable[[Connection], None] | Rows
Write = Step | tuple[Step, ...]
# a write of no steps: `flush` waits for it, and it goes wherever its batch goes (a
# function write would keep the batch from the committer)
_NOTHING: Write = ()


class Committer(Protocol):
    """Commits batches somewhere other than the journal's thread (`plait.store.commit_process`)."""

    def commit(self, writes: Sequence[Write]) -> list[Exception | None] | None:
        """Each write's failure or None; None for a batch it cannot take."""

    def close(self) -> None: ...


@dataclass
class _Entry:
    write: Write
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Journal:
    def __init__(
        self,
        engine: Callable[[], Engine],
        max_batch: int = 1000,
        max_pending: int = 10_000,
        writer: Writer | None = None,
        committer: Committer | None = None,
    ):
        """`writer`: the thread commits run on, shared with the blob store so records
        land after the files they name (see `plait.store.writer`); by default its own.
        `committer`: where batches it takes are committed instead (from that thread, so
        still in order)."""
        self._kept = KeptConnection(engine)
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._pending: list[_Entry] = []
        self._roomy: asyncio.Future[None] | None = None  # set once the backlog halves
        self._drainer: asyncio.Task[None] | None = None
        self._owns_thread = writer is None
        self._thread = writer or Writer()
        self._committer = committer

    async def write(self, write: Write) -> None:
        """Run `write` in the next batch and return once it is committed."""
        await self.post(write)

    def post(self, write: Write) -> asyncio.Future[None]:
        """Queue `write`; the future settles when it is committed (or failed)."""
        entry = _Entry(write)
        self._pending.append(entry)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return entry.done

    async def room(self) -> None:
        """Wait while more than `max_pending` writes wait for the database: callers that do
        not await their writes take this to keep pace with it (memory stays bounded)."""
        if len(self._pending) <= self._max_pending:
            return
        if self._roomy is None or self._roomy.done():
            self._roomy = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._roomy)  # all waiters share it: one wake-up, not a herd

    async def flush(self) -> None:
        """Wait until everything handed in so far is committed."""
        if self._pending or (self._drainer is not None and not self._drainer.done()):
            await self.write(_NOTHING)

    async def close(self) -> None:
        await self.flush()
        await self._thread.run(self._dispose)
        if self._owns_thread:
            self._thread.close()

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = (
                self._pending[: self._max_batch],
                self._pending[self._max_batch :],
            )
            try:
                failures = await self._thread.run(functools.partial(self._commit, batch))
            except Exception as exc:  # a bug outside the writes: their callers must hear of it
                failures = [exc] * len(batch)
            for entry, failure in zip(batch, failures, strict=True):
                if entry.done.done():
                    continue
                if failure is None:
                    entry.done.set_result(None)
                else:
                    log.error("a database write failed: %r", failure)
                    entry.done.set_exception(failure)
                    entry.done.exception()  # retrieved: a caller that only posted is not warned
            roomy = self._roomy
            if (
                roomy is not None
                and not roomy.done()
                and len(self._pending) <= self._max_pending // 2
            ):
                roomy.set_result(None)

    def _dispose(self) -> None:
        if self._committer is not None:
            self._committer.close()
        self._kept.dispose()

    def _commit(self, batch: list[_Entry]) -> list[Exception | None]:
        """In the journal's thread: by the committer if it takes the batch, else here."""
        writes = [entry.write for entry in batch]
        if self._committer is not None:
            failures = self._committer.commit(writes)
            if failures is not None:
                return failures
        return commit_batch(self._kept.get(), writes)


def commit_batch(conn: Connection, writes: Sequence[Write]) -> list[Exception | None]:
    """`writes` in one transaction, else one at a time: each write's failure or None."""
    try:
        with conn.begin():
            apply(conn, writes)
        return [None] * len(writes)
    except Exception as exc:
        if len(writes) == 1:
            return [exc]
        return [commit_batch(conn, [write])[0] for write in writes]


def steps(write: Write) -> tuple[Step, ...]:
    """A write's steps, in order."""
    return write if isinstance(write, tuple) else (write,)


def apply(conn: Connection, writes: Iterable[Write]) -> None:
    """Execute `writes` as the module docstring says: `Rows` grouped, functions in place."""
    gathered = _Gathered()
    for write in writes:
        for step in steps(write):
            if isinstance(step, Rows):
                gathered.add(step)
            else:
                gathered.execute(conn)
                step(conn)
    gathered.execute(conn)


class _Gathered:
    """Rows waiting to be executed, grouped by statement and set of columns."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Statement, frozenset[str]], list[dict[str, Any]]] = {}

    def add(self, rows: Rows) -> None:
        for row in rows.params:
            self._groups.setdefault((rows.statement, frozenset(row)), []).append(row)

    def execute(self, conn: Connection) -> None:
        for (statement, _), params in sorted(self._groups.items(), key=lambda g: g[0][0].order):
            conn.execute(statement.sql, params)
        self._groups.clear()
