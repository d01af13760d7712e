"""Which published flow a trigger secret serves, with a short-lived cache.

Looking the secret up costs a database query per call; the answer changes only
when someone publishes, rolls back, rotates, unpublishes or deletes, and those
routes call `changed()`, which clears this cache on every process: the signal
`published:changed` (see `plait.signals`) reaches the others' `listening()`. Entries
also expire after `ttl` seconds, which bounds how long a process that missed the
signal (Redis unreachable for a moment) serves a changed answer.

`PublishedFlowLookup` is the seam; `PublishedFlows` caches in this process's memory.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from plait.crypto.tokens import digest
from plait.signals import InMemorySignals, Message, Signals
from plait.store import flows as flow_store
from plait.store.db import Database
from plait.store.flows import PublishedFlow
from plait.store.tables import utcnow

_MAX_ENTRIES = 10_000
CHANGED = "published:changed"
Answer = tuple[PublishedFlow | None]  # an answer that is known (its content may be None)


@dataclass
class _Entry:
    expires: float
    lookup: asyncio.Future[PublishedFlow | None]
    last: Answer | None = None  # the answer before this lookup, if there was one


class PublishedFlowLookup(Protocol):
    async def by_secret(self, secret: str) -> PublishedFlow | None:
        """The published flow a live trigger secret serves; None for any other secret."""
        ...

    def clear(self) -> None:
        """Forget what is known here."""
        ...

    async def changed(self) -> None:
        """A publication changed (and is committed): forget what is known, on every process."""
        ...

    def listening(self) -> AbstractAsyncContextManager[None]:
        """While entered, a change announced by any process clears what is known here."""
        ...


class PublishedFlows:
    def __init__(self, db: Database, ttl: float = 1.0, signals: Signals | None = None):
        self._db = db
        self._ttl = ttl
        self._entries: dict[str, _Entry] = {}
        self._signals = signals or InMemorySignals()

    def listening(self) -> AbstractAsyncContextManager[None]:
        return self._signals.listen(CHANGED, self._heard_changed)

    async def changed(self) -> None:
        self.clear()  # at once here, whatever the signals take
        await self._signals.publish(CHANGED, {})

    def _heard_changed(self, message: Message) -> None:
        self.clear()

    async def by_secret(self, secret: str) -> PublishedFlow | None:
        """Concurrent calls for one secret share one query (no stampede when an entry
        expires), and while an expired entry is looked up again its last answer is served:
        no call waits for the refresh of a secret that was known."""
        key = digest(secret)
        entry = self._entries.get(key)
        if entry is None or entry.expires <= time.monotonic():
            entry = self._look_up(key, entry)
        if not entry.lookup.done() and entry.last is not None:
            return _unexpired(entry.last[0])
        try:
            return _unexpired(await asyncio.shield(entry.lookup))
        except Exception:
            self._entries.pop(key, None)  # a failed query is not remembered
            raise

    def _look_up(self, key: str, previous: _Entry | None) -> _Entry:
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        entry = _Entry(
            time.monotonic() + self._ttl,
            asyncio.ensure_future(self._lookup(key)),
            None if previous is None else _answer_of(previous),
        )
        self._entries[key] = entry
        return entry

    async def _lookup(self, key: str) -> PublishedFlow | None:
        async with self._db.new_session(after_journal=False) as session:
            return await flow_store.published_by_secret(session, key)

    def clear(self) -> None:
        """Forget every answer: the next call for each secret waits for a fresh one."""
        self._entries.clear()


def _answer_of(entry: _Entry) -> Answer | None:
    lookup = entry.lookup
    if lookup.done() and not lookup.cancelled() and lookup.exception() is None:
        return (lookup.result(),)
    return entry.last


def _unexpired(found: PublishedFlow | None) -> PublishedFlow | None:
    if found is None or found.secret_expires_at is None or found.secret_expires_at > utcnow():
        return found
    return None
