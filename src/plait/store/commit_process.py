"""Commits in a process of their own: the journal's rows executed where they do not hold
the server's interpreter lock.

The journal's thread shares the interpreter lock with the event loop: every row it
prepares and binds is time the loop cannot serve requests. Handed here, a batch of `Rows`
crosses a pipe as plain values (statements once, by number), and the loop's process only
pickles them and waits on the pipe, holding nothing. A batch holding a function write
(`Callable[[Connection], None]`, which cannot cross) is left to the caller, who commits it
in its own thread; batches commit one after another, so order is kept either way.

SQLite only: PostgreSQL already executes in a server process of its own.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import signal
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection as Pipe
from multiprocessing.context import ForkServerProcess
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext import serializer

from plait.store.journal import Folds, Rows, Statement, Write, commit_batch

_Definition = tuple[int, bytes, int, str | None, tuple[int, str] | None]
_Message = tuple[list[_Definition], list[list[tuple[int, Sequence[dict[str, Any]]]]]]


class CommitFailed(Exception):
    """A write failed in the commit process with an error that could not cross back."""


class CommitProcess:
    """The journal's `Committer` on a child process; started by `start` or on first
    use, restarted if it dies (the batch it held fails, as any failed commit does)."""

    def __init__(self, url: str, tables: Callable[[], MetaData]):
        """`tables`: a module-level function (it crosses by name) giving the `MetaData`
        the statements' tables belong to; the child looks them up there."""
        self._url = url
        self._tables = tables
        self._keys: dict[Statement, int] = {}  # statements the child knows, by number
        self._process: ForkServerProcess | None = None
        self._pipe: Pipe | None = None

    def commit(self, writes: Sequence[Write]) -> list[Exception | None] | None:
        """Commit `writes` in the child; None when one of them is a function."""
        steps = [write if isinstance(write, tuple) else (write,) for write in writes]
        if not all(isinstance(step, Rows) for entry in steps for step in entry):
            return None
        pipe = self.start()
        try:
            pipe.send(self._message(steps))  # type: ignore[arg-type]
            replies: list[Exception | None] = pipe.recv()
        except (EOFError, OSError) as exc:
            self.close()  # the next batch starts a new child (told every statement again)
            return [CommitFailed(f"the commit process stopped ({exc!r}); retry")] * len(writes)
        return replies

    def close(self) -> None:
        """Let the child finish and go (it commits nothing half-way: a batch is one
        transaction)."""
        process, pipe = self._process, self._pipe
        self._process = self._pipe = None
        self._keys = {}
        if pipe is not None:
            with contextlib.suppress(OSError):  # already gone
                pipe.send(None)
            pipe.close()
        if process is not None:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> Pipe:
        """Start the child unless it runs (a server does at start-up: the first batch
        would wait for it otherwise); its end of the pipe."""
        if self._pipe is not None and self._process is not None and self._process.is_alive():
            return self._pipe
        self.close()
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])  # each child starts in milliseconds
        ours, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(theirs, self._url, self._tables),
            name="plait-commits",
            daemon=True,
        )
        self._process.start()
        theirs.close()
        self._pipe = ours
        return ours

    def _message(self, steps: list[tuple[Rows, ...]]) -> _Message:
        definitions: list[_Definition] = []
        writes = [[(self._key(r.statement, definitions), r.params) for r in e] for e in steps]
        return definitions, writes

    def _key(self, statement: Statement, definitions: list[_Definition]) -> int:
        key = self._keys.get(statement)
        if key is None:
            folds = statement.folds
            into = None if folds is None else (self._key(folds.into, definitions), folds.key)
            key = self._keys[statement] = len(self._keys)
            sql: bytes = serializer.dumps(statement.sql)  # type: ignore[no-untyped-call]
            definitions.append((key, sql, statement.order, statement.keyed_by, into))
        return key


def _serve(pipe: Pipe, url: str, tables: Callable[[], MetaData]) -> None:
    """The child: commit each batch it is sent, answer each write's failure or None."""
    from plait.store.db import sync_engine  # here: the parent's import would be circular

    # Ctrl+C reaches the whole process group: the parent stops and flushes, then closes us
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    metadata = tables()
    statements: dict[int, Statement] = {}
    engine = sync_engine(url)
    with engine.connect() as conn:
        while (message := _receive(pipe)) is not None:
            definitions, writes = message
            for key, sql, order, keyed_by, into in definitions:
                folds = None if into is None else Folds(statements[into[0]], into[1])
                loaded = serializer.loads(sql, metadata)  # type: ignore[no-untyped-call]
                statements[key] = Statement(loaded, order, keyed_by, folds)
            batch = [tuple(Rows(statements[k], params) for k, params in w) for w in writes]
            pipe.send([_portable(f) for f in commit_batch(conn, batch)])
    engine.dispose()


def _receive(pipe: Pipe) -> _Message | None:
    try:
        message: _Message | None = pipe.recv()
    except EOFError:  # the parent is gone
        return None
    return message


def _portable(failure: Exception | None) -> Exception | None:
    """The failure itself if it pickles (an IntegrityError does), else its description."""
    if failure is None:
        return None
    try:
        pickle.loads(pickle.dumps(failure))  # noqa: S301 - our own bytes, just made
    except Exception:
        return CommitFailed(f"{type(failure).__name__}: {failure}")
    return failure


__all__ = ["CommitFailed", "CommitProcess"]
