"""This process's claims on shared work (runs, batches): who it is, how long a claim
holds, and the heartbeat that keeps a claim alive while the work goes on.

Many processes (`plait serve`, `plait worker`) may share one database. A process takes a
run by a conditional UPDATE (`plait.store.leases`); while it executes the run a heartbeat
extends the lease every third of its length. A process that dies stops beating: once its
lease expires, the reaper of any live process queues the run again (`plait.engine.reaper`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

from plait.store import leases as store
from plait.store.db import Database
from plait.store.tables import utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DEFAULT_LEASE_SECONDS = 30.0


def new_owner() -> str:
    """A name for this process, unique across machines and restarts."""
    return f"{platform.node()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class Leases:
    def __init__(
        self,
        db: Database,
        owner: str | None = None,
        seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Clock = utcnow,
    ):
        self.db = db
        self.owner = owner or new_owner()
        self.seconds = seconds
        self.clock = clock

    def now(self) -> datetime:
        return self.clock()

    def until(self) -> datetime:
        return self.clock() + timedelta(seconds=self.seconds)

    def fields(self) -> dict[str, Any]:
        """The columns of a run (or batch) row created already claimed by this process."""
        return {"lease_owner": self.owner, "lease_expires": self.until()}

    async def claim(self, leased: store.Leased, key: Any) -> bool:
        """Take the row if it is free (and claimable: `Leased.claimable`)."""
        return await store.claim(self.db.claims, leased, key, self.owner, self.now(), self.until())

    async def take(self, leased: store.Leased, key: Any) -> bool:
        """Claim the row if it is free, or push on the claim this process already has on
        it (a row created claimed here: `fields`); False if another process holds it, or it
        is no longer claimable. A free row costs one UPDATE, one held here two."""
        return await self.claim(leased, key) or await store.reclaim(
            self.db.claims, leased, key, self.owner, self.until()
        )

    def holds_long(self, until: datetime) -> bool:
        """Whether a claim of this process's that runs until `until` needs no renewing
        before work under it starts: more than half its length is left, and the heartbeat
        extends it after a third (`heartbeat`)."""
        return until - self.now() > timedelta(seconds=self.seconds / 2)

    async def extend(self, leased: store.Leased, key: Any) -> bool:
        return await store.extend(self.db.claims, leased, key, self.owner, self.until())

    async def release(self, leased: store.Leased, key: Any) -> bool:
        return await store.release(self.db.claims, leased, key, self.owner, self.now())

    @contextlib.asynccontextmanager
    async def heartbeat(
        self, leased: store.Leased, key: Any, on_lost: Callable[[], None]
    ) -> AsyncIterator[None]:
        """Extend the claim every third of the lease while the body runs; `on_lost` is
        called if another process took the row over (this one stalled past its lease)."""
        task = asyncio.get_running_loop().create_task(self._beat(leased, key, on_lost))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _beat(self, leased: store.Leased, key: Any, on_lost: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(self.seconds / 3)
            try:
                held = await self.extend(leased, key)
            except Exception:  # the database is away: try again at the next beat
                log.warning("could not extend the lease on %s %s", leased.table.name, key)
                continue
            if not held:
                log.warning(
                    "lost the lease on %s %s to another process; stopping here",
                    leased.table.name,
                    key,
                )
                on_lost()
                return
