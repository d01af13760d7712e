"""Commits in a process of their own: the journal's rows executed where they do not hold
the server's interpreter lock.

The journal's thread shares the interpreter lock with the event loop: every row it
prepares and binds is time the loop cannot serve requests (`benchmarks/trigger.py`: the
echo flow's server spends about twice the CPU per call committing in its own thread; see
docs/benchmarks.md). Handed here, a batch of `Rows`
crosses a pipe as plain values (statements once, by number), and the loop's process only
pickles them and waits on the pipe, holding nothing. A batch holding a function write
(`Callable[[Connection], None]`, which cannot cross) is left to the caller, who commits it
in its own thread; batches commit one after another, so order is kept either way.

SQLite only: PostgreSQL already executes in a server process of its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext import serializer

from plait.store.journal import Rows, Statement, Write, commit_batch, steps

log = logging.getLogger(__name__)

_Definition = tuple[int, bytes, int]
_Message = tuple[list[_Definition], list[list[tuple[int, Sequence[dict[str, Any]]]]]]


class CommitFailed(Exception):
    """A write failed in the commit process with an error that could not cross back."""


class CommitProcess:
    """The journal's `Committer` on a child process; started by `start` or on first
    use, restarted if it dies (the batch it held fails, as any failed commit does).

    The child is a fresh interpreter (`python -m plait.store.commit_process`), not a
    multiprocessing child: those re-run the parent's main script, which starts a
    server again when it was written without a `__main__` guard."""

    def __init__(self, url: str, tables: Callable[[], MetaData], python: str = sys.executable):
        """`tables`: a module-level function (it crosses by name) giving the `MetaData`
        the statements' tables belong to; the child looks them up there. `python`: the
        interpreter the child runs on."""
        self._url = url
        self._tables = tables
        self._python = python
        self._keys: dict[Statement, int] = {}  # statements the child knows, by number
        self._child: _Child | None = None

    def commit(self, writes: Sequence[Write]) -> list[Exception | None] | None:
        """Commit `writes` in the child; None when one of them is a function."""
        entries = [steps(write) for write in writes]
        if not all(isinstance(step, Rows) for entry in entries for step in entry):
            return None
        try:
            child = self.start()
        except OSError as exc:  # the batch is not lost: the journal commits it itself
            log.error("cannot start the commit process (%s); committing in this one", exc)
            return None
        data = self._pickled(entries)  # type: ignore[arg-type]  # all Rows: checked above
        if data is None:
            return None
        try:
            child.send(data)
            replies: list[Exception | None] = child.receive()
        except (EOFError, OSError) as exc:
            self.close()  # the next batch starts a new child (told every statement again)
            return [CommitFailed(f"the commit process stopped ({exc!r}); retry")] * len(writes)
        return replies

    def close(self) -> None:
        """Let the child finish and go (it commits nothing half-way: a batch is one
        transaction)."""
        child, self._child, self._keys = self._child, None, {}
        if child is not None:
            child.stop()

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.process.pid

    def start(self) -> _Child:
        """Start the child unless it runs (a server does at start-up, so its imports
        overlap the server's own)."""
        if self._child is not None and self._child.process.poll() is None:
            return self._child
        self.close()
        self._child = _Child.start(self._python, (self._url, self._tables))
        return self._child

    def _pickled(self, entries: list[tuple[Rows, ...]]) -> bytes | None:
        """The batch as the child reads it; None if a value cannot cross (the journal
        then commits the batch itself), the statements it named forgotten again."""
        known = len(self._keys)
        try:
            return pickle.dumps(self._message(entries), pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            log.warning("a batch cannot cross to the commit process (%s); committed here", exc)
            self._keys = dict(list(self._keys.items())[:known])
            return None

    def _message(self, entries: list[tuple[Rows, ...]]) -> _Message:
        definitions: list[_Definition] = []
        writes = [[(self._key(r.statement, definitions), r.params) for r in e] for e in entries]
        return definitions, writes

    def _key(self, statement: Statement, definitions: list[_Definition]) -> int:
        key = self._keys.get(statement)
        if key is None:
            key = self._keys[statement] = len(self._keys)
            sql: bytes = serializer.dumps(statement.sql)  # type: ignore[no-untyped-call]
            definitions.append((key, sql, statement.order))
        return key


@dataclass(frozen=True)
class _Child:
    process: subprocess.Popen[bytes]
    to: Connection
    back: Connection

    @classmethod
    def start(cls, python: str, hello: tuple[str, Callable[[], MetaData]]) -> _Child:
        """A child on `python`, told the database and its tables (`hello`)."""
        to_read, to_write = os.pipe()
        back_read, back_write = os.pipe()
        try:
            process = subprocess.Popen(  # noqa: S603 - an interpreter running our module
                [python, "-m", __name__, str(to_read), str(back_write)],
                pass_fds=(to_read, back_write),
                stdin=subprocess.DEVNULL,
            )
        except OSError:
            os.close(to_write)
            os.close(back_read)
            raise
        finally:
            os.close(to_read)
            os.close(back_write)
        child = cls(
            process, Connection(to_write, readable=False), Connection(back_read, writable=False)
        )
        child.to.send(hello)
        return child

    def send(self, data: bytes) -> None:
        self.to.send_bytes(data)

    def receive(self) -> Any:
        return self.back.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self.to.send(None)  # the child's cue to go
        self.to.close()
        self.back.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main(argv: Sequence[str]) -> None:
    """The child's entry: commit each batch it is sent until told to stop."""
    # Ctrl+C reaches the whole process group: the parent stops and flushes, then closes us
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pipe = Connection(int(argv[0]), writable=False)
    answers = Connection(int(argv[1]), readable=False)
    started = _receive(pipe)
    if started is not None:
        url, tables = started
        with contextlib.suppress(BrokenPipeError):  # the parent is gone: nothing to answer
            _serve(pipe, answers, url, tables)


def _serve(pipe: Connection, answers: Connection, url: str, tables: Callable[[], MetaData]) -> None:
    from plait.store.db import sync_engine  # here: the parent's import would be circular

    metadata = tables()
    statements: dict[int, Statement] = {}
    engine = sync_engine(url)
    with engine.connect() as conn:
        while (message := _receive(pipe)) is not None:
            definitions, writes = message
            for key, sql, order in definitions:
                loaded = serializer.loads(sql, metadata)  # type: ignore[no-untyped-call]
                statements[key] = Statement(loaded, order)
            batch = [tuple(Rows(statements[k], params) for k, params in w) for w in writes]
            answers.send([_portable(f) for f in commit_batch(conn, batch)])
    engine.dispose()


def _receive(pipe: Connection) -> Any:
    try:
        message = pipe.recv()
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

if __name__ == "__main__":  # the child: the real module's code, so its classes cross back
    from plait.store.commit_process import main as _main

    _main(sys.argv[1:])
