"""Signing in with a password: the throttle, and the same work for every attempt.

Following OWASP's authentication cheat sheet, failures are counted per client address
and per account *from that address*: an address that keeps failing is slowed down, for
one account or across many (password spraying), while the owner signing in from another
address is not locked out by it. A limit on all failures for one account, from every
address, stops a guess spread thin over many addresses; it is set high, so that only
such an attack reaches it. The counters live in memory (one server process).

An attempt for an account that does not exist verifies the password against a dummy
Argon2 hash, so both take the same time and the answer's timing tells nothing.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from plait.crypto.passwords import hash_password, verify_password

Clock = Callable[[], float]
Verify = Callable[[str, str], bool]


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: float = 15 * 60
    per_account_and_address: int = 10  # failures of one account from one address
    per_address: int = 20  # failures from one address, any accounts
    per_account: int = 100  # failures of one account from every address together


@dataclass
class _Failures:
    times: deque[float] = field(default_factory=deque)

    def count(self, now: float, window: float) -> int:
        while self.times and self.times[0] <= now - window:
            self.times.popleft()
        return len(self.times)


class SignIns:
    """Password checks and the failures they count; `clock` and `verify` are seams for tests."""

    def __init__(
        self,
        policy: ThrottlePolicy | None = None,
        clock: Clock = time.monotonic,
        verify: Verify = verify_password,
    ):
        self.policy = policy or ThrottlePolicy()
        self._clock = clock
        self._verify = verify
        self._failures: dict[tuple[str, ...], _Failures] = {}

    def matches(self, stored_hash: str | None, password: str) -> bool:
        """Whether `password` is the account's; an unknown account (`stored_hash` None) is
        checked against a dummy hash, the same work, and never matches. Blocking: CPU."""
        if stored_hash is None:
            self._verify(_dummy_hash(), password)
            return False
        return self._verify(stored_hash, password)

    def _keys(self, account: str, address: str) -> list[tuple[tuple[str, ...], int]]:
        p, account = self.policy, account.strip().lower()
        return [
            (("pair", account, address), p.per_account_and_address),
            (("address", address), p.per_address),
            (("account", account), p.per_account),
        ]

    def wait(self, account: str, address: str) -> float:
        """Seconds until this address may try this account again (0: now)."""
        now, window = self._clock(), self.policy.window_seconds
        longest = 0.0
        for key, limit in self._keys(account, address):
            failures = self._failures.get(key)
            if failures is not None and failures.count(now, window) >= limit:
                oldest_that_counts = failures.times[-limit]
                longest = max(longest, oldest_that_counts + window - now)
        return longest

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        for key, _limit in self._keys(account, address):
            self._failures.setdefault(key, _Failures()).times.append(now)
        self._forget_stale(now)

    def succeeded(self, account: str, address: str) -> None:
        """The right password from this address: its failures for the account are forgotten."""
        self._failures.pop(self._keys(account, address)[0][0], None)

    def _forget_stale(self, now: float) -> None:
        if len(self._failures) < 10_000:
            return
        window = self.policy.window_seconds
        for key in [k for k, f in self._failures.items() if not f.count(now, window)]:
            del self._failures[key]


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


@functools.cache
def _dummy_hash() -> str:
    """Made once, on first use (hashing takes a moment), with the same parameters as real
    hashes, so verifying against it costs what verifying a real one does."""
    return hash_password(secrets.token_urlsafe(16))
