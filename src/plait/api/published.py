"""Which published flow a trigger secret serves, with a short-lived cache.

Looking the secret up costs a database query per call; the answer changes only
when someone publishes, rolls back, rotates, unpublishes or deletes, and those
routes `clear()` this cache. Entries also expire after `ttl` seconds, which bounds
how long another server process can serve a changed answer.
"""

from __future__ import annotations

import asyncio
import time

from plait.crypto.tokens import digest
from plait.store import flows as flow_store
from plait.store.db import Database
from plait.store.flows import PublishedFlow
from plait.store.tables import utcnow

_MAX_ENTRIES = 10_000


class PublishedFlows:
    def __init__(self, db: Database, ttl: float = 1.0):
        self._db = db
        self._ttl = ttl
        self._entries: dict[str, tuple[float, asyncio.Future[PublishedFlow | None]]] = {}

    async def by_secret(self, secret: str) -> PublishedFlow | None:
        """Concurrent calls for one secret share one query (no stampede when an entry expires)."""
        key = digest(secret)
        cached = self._entries.get(key)
        if cached is None or cached[0] <= time.monotonic():
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            lookup = asyncio.ensure_future(self._lookup(key))
            cached = self._entries[key] = (time.monotonic() + self._ttl, lookup)
        try:
            return _unexpired(await asyncio.shield(cached[1]))
        except Exception:
            self._entries.pop(key, None)  # a failed query is not remembered
            raise

    async def _lookup(self, key: str) -> PublishedFlow | None:
        async with self._db.new_session() as session:
            return await flow_store.published_by_secret(session, key)

    def clear(self) -> None:
        self._entries.clear()


def _unexpired(found: PublishedFlow | None) -> PublishedFlow | None:
    if found is None or found.secret_expires_at is None or found.secret_expires_at > utcnow():
        return found
    return None
