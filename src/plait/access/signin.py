"""Signing in with a password: the throttle, and the same work for every attempt.

Following OWASP's authentication cheat sheet, failures are counted per client address
and per account *from that address*: an address that keeps failing is slowed down, for
one account or across many (password spraying), while the owner signing in from another
address is not locked out by it. A limit on all failures for one account, from every
address, stops a guess spread thin over many addresses; it is set high, so that only
such an attack reaches it. The failures are counted in `plait.windows`: in this process,
or with `PLAIT_REDIS_URL` in Redis, shared by every server process (an attacker gains
nothing by spreading guesses over processes behind a load balancer); while Redis is away,
each process counts its own (`windows.LocalWhenAway`), and signing in goes on.

An attempt for an account that does not exist verifies the password against a dummy
Argon2 hash, so both take the same time and the answer's timing tells nothing.
"""

from __future__ import annotations

import functools
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from plait.crypto.passwords import hash_password, verify_password
from plait.windows import MovingWindows, Windows

Verify = Callable[[str, str], bool]


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: float = 15 * 60
    per_account_and_address: int = 10  # failures of one account from one address
    per_address: int = 20  # failures from one address, any accounts
    per_account: int = 100  # failures of one account from every address together


class SignIns:
    """Password checks and the failures they count; `windows` and `verify` are seams."""

    def __init__(
        self,
        policy: ThrottlePolicy | None = None,
        windows: Windows | None = None,
        verify: Verify = verify_password,
    ):
        self.policy = policy or ThrottlePolicy()
        self._windows = windows or MovingWindows()
        self._verify = verify

    def matches(self, stored_hash: str | None, password: str) -> bool:
        """Whether `password` is the account's; an unknown account (`stored_hash` None) is
        checked against a dummy hash, the same work, and never matches. Blocking: CPU."""
        if stored_hash is None:
            self._verify(_dummy_hash(), password)
            return False
        return self._verify(stored_hash, password)

    def _keys(self, account: str, address: str) -> list[tuple[str, int]]:
        p, account = self.policy, account.strip().lower()
        return [
            (f"signin/pair/{account}/{address}", p.per_account_and_address),
            (f"signin/address/{address}", p.per_address),
            (f"signin/account/{account}", p.per_account),
        ]

    async def wait(self, account: str, address: str) -> float:
        """Seconds until this address may try this account again (0: now)."""
        longest, window = 0.0, self.policy.window_seconds
        for key, limit in self._keys(account, address):
            remaining, frees_in = await self._windows.peek(key, limit, window)
            if remaining == 0:
                longest = max(longest, frees_in)
        return longest

    async def failed(self, account: str, address: str) -> None:
        for key, limit in self._keys(account, address):
            await self._windows.hit(key, limit, self.policy.window_seconds)

    async def succeeded(self, account: str, address: str) -> None:
        """The right password from this address: its failures for the account are forgotten."""
        key, limit = self._keys(account, address)[0]
        await self._windows.clear(key, limit, self.policy.window_seconds)


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


@functools.cache
def _dummy_hash() -> str:
    """Made once, on first use (hashing takes a moment), with the same parameters as real
    hashes, so verifying against it costs what verifying a real one does."""
    return hash_password(secrets.token_urlsafe(16))
