"""The Gemini key stored through the server (encrypted with the master key), for every
process: storing or deleting it here says so on `gemini-key:changed` (see
`plait.signals`), and each process reads it again from the database, so the next run
anywhere uses it. The key itself never travels in a signal."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager

from plait.crypto.vault import Vault
from plait.runtime import LazyProvider
from plait.signals import Message, Signals
from plait.store import settings as settings_store
from plait.store.db import Database

log = logging.getLogger(__name__)

GEMINI_KEY = "gemini_api_key"  # its row in the settings table
CHANGED = "gemini-key:changed"


class StoredKey:
    def __init__(self, db: Database, vault: Vault, provider: LazyProvider, signals: Signals):
        self._db = db
        self._vault = vault
        self._provider = provider
        self._signals = signals
        self._reloads: set[asyncio.Task[None]] = set()

    async def load(self) -> None:
        """Hand the stored key (decrypted; None when there is none) to the provider."""
        async with self._db.new_session(after_journal=False) as session:
            stored = await settings_store.get_setting(session, GEMINI_KEY)
        self._provider.use_stored_key(None if stored is None else self._vault.decrypt(stored))

    async def put(self, key: str) -> None:
        async with self._db.new_session(after_journal=False) as session, session.begin():
            await settings_store.put_setting(session, GEMINI_KEY, self._vault.encrypt(key))
        self._provider.use_stored_key(key)
        await self._signals.publish(CHANGED, {})

    async def delete(self) -> None:
        async with self._db.new_session(after_journal=False) as session, session.begin():
            await settings_store.delete_setting(session, GEMINI_KEY)
        self._provider.use_stored_key(None)
        await self._signals.publish(CHANGED, {})

    def listening(self) -> AbstractAsyncContextManager[None]:
        """While entered, a key stored or deleted by any process is read again here."""
        return self._signals.listen(CHANGED, self._heard_changed)

    def _heard_changed(self, message: Message) -> None:
        task = asyncio.get_running_loop().create_task(self._reload())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def _reload(self) -> None:
        try:
            await self.load()
        except Exception:
            log.exception("could not read the stored Gemini key again after it changed")
