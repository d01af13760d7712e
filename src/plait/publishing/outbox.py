"""The callback outbox: a trigger caller's `callback_url` is recorded in the database before
the call is answered, and called once the run settles by whichever process is alive.

Every process that executes work delivers (`Outbox.deliver_due`, every few seconds): it
claims each due row with a conditional UPDATE (a claim that expires, so a row claimed by
a process that died is taken over), POSTs the signed outcome once through the guarded
client, and records the result: delivered; or, after a transient failure (network, 5xx),
the next attempt after a doubling delay, until `attempts` are spent (then failed); a
receiver's refusal (another status) fails it at once. The trigger secret that signs the
body is kept encrypted under the master key until then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from plait.crypto.vault import Vault
from plait.engine.leases import Leases
from plait.net import GuardedClient, parse_url
from plait.publishing.callbacks import ATTEMPTS, FIRST_DELAY_SECONDS, post_once
from plait.store import outbox as store
from plait.store.leases import CALLBACKS
from plait.store.tables import Run

log = logging.getLogger(__name__)

Payload = Callable[[Run, str], dict[str, Any]]  # the body for a settled run, by secret
CLAIM_SECONDS = 120.0  # longer than one POST may take (the guarded client's time cap)
_PER_PASS = 50


class Outbox:
    def __init__(
        self,
        leases: Leases,
        http: GuardedClient,
        vault: Vault,
        payload: Payload,
        *,
        attempts: int = ATTEMPTS,
        first_delay: float = FIRST_DELAY_SECONDS,
    ):
        """`leases`: who this process is and its clock (claims last `CLAIM_SECONDS`)."""
        self.leases = Leases(leases.db, leases.owner, CLAIM_SECONDS, leases.clock)
        self.db = leases.db
        self.http = http
        self.vault = vault
        self.payload = payload
        self.attempts = attempts
        self.first_delay = first_delay

    async def add(self, run_id: str, url: str, secret: str) -> None:
        """Record a callback for the run (committed when this returns)."""
        await self.db.journal.write(
            store.add(run_id, url, self.vault.encrypt(secret), self.leases.now())
        )

    async def deliver_due(self) -> int:
        """Try every due callback this process can claim; how many were delivered."""
        async with self.db.new_session() as session:
            due = await store.due(session, self.leases.now(), _PER_PASS)
        delivered = 0
        for delivery_id in due:
            if await self.leases.claim(CALLBACKS, delivery_id):
                delivered += await self._attempt(delivery_id)
        return delivered

    async def _attempt(self, delivery_id: int) -> bool:
        async with self.db.new_session() as session:
            found = await store.get(session, delivery_id)
        assert found is not None  # claimed just now; rows are deleted only with their run
        delivery, run = found
        secret = self.vault.decrypt(delivery.secret)
        outcome = await post_once(self.http, delivery.url, secret, self.payload(run, secret))
        attempts = delivery.attempts + 1
        now = self.leases.now()
        if outcome.delivered:
            fields: dict[str, Any] = {"state": store.DELIVERED, "settled_at": now}
        elif outcome.retry and attempts < self.attempts:
            delay = timedelta(seconds=self.first_delay * 2 ** (attempts - 1))
            fields = {"next_attempt_at": now + delay, "last_error": outcome.reason}
        else:
            fields = {"state": store.FAILED, "settled_at": now, "last_error": outcome.reason}
        if not outcome.delivered:
            log.warning(
                "callback for run %s to %s failed (attempt %d of %d): %s",
                run.id,
                parse_url(delivery.url).origin,
                attempts,
                self.attempts,
                outcome.reason,
            )
        await store.settle(
            self.db.claims, delivery_id, self.leases.owner, attempts=attempts, **fields
        )
        return outcome.delivered
