"""The sign-in throttle (per address, per account from an address, per account overall)
on an injected clock, and the same password work for unknown accounts."""

from __future__ import annotations

from plait.access.signin import SignIns, ThrottlePolicy
from plait.crypto.passwords import hash_password, verify_password
from plait.windows import MovingWindows

POLICY = ThrottlePolicy(window_seconds=900, per_account_and_address=3, per_address=5, per_account=8)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _throttle(clock: Clock) -> SignIns:
    return SignIns(POLICY, MovingWindows(clock))


async def test_failures_from_one_address_do_not_lock_the_owner_out_from_another() -> None:
    clock = Clock()
    signins = _throttle(clock)
    for _ in range(3):
        assert await signins.wait("owner@x.test", "10.0.0.1") == 0
        await signins.failed("owner@x.test", "10.0.0.1")
    assert await signins.wait("owner@x.test", "10.0.0.1") == 900
    assert await signins.wait("OWNER@x.test ", "10.0.0.1") == 900  # one account however spelt
    assert await signins.wait("owner@x.test", "10.0.0.2") == 0


async def test_the_wait_ends_with_the_window() -> None:
    clock = Clock()
    signins = _throttle(clock)
    for _ in range(3):
        await signins.failed("a@x.test", "10.0.0.1")
        clock.now += 100
    assert await signins.wait("a@x.test", "10.0.0.1") == 600  # the first failure leaves at 900
    clock.now += 600
    assert await signins.wait("a@x.test", "10.0.0.1") == 0


async def test_many_accounts_from_one_address_are_throttled_too() -> None:
    clock = Clock()
    signins = _throttle(clock)
    for n in range(5):
        assert await signins.wait(f"user{n}@x.test", "10.0.0.9") == 0
        await signins.failed(f"user{n}@x.test", "10.0.0.9")
    assert await signins.wait("someone-new@x.test", "10.0.0.9") == 900
    assert await signins.wait("someone-new@x.test", "10.0.0.8") == 0


async def test_a_guess_spread_over_many_addresses_meets_the_account_limit() -> None:
    clock = Clock()
    signins = _throttle(clock)
    for n in range(8):
        await signins.failed("owner@x.test", f"10.0.1.{n}")
    assert await signins.wait("owner@x.test", "10.0.2.1") == 900


async def test_the_right_password_forgets_that_addresses_failures() -> None:
    clock = Clock()
    signins = _throttle(clock)
    for _ in range(2):
        await signins.failed("a@x.test", "10.0.0.1")
    await signins.succeeded("a@x.test", "10.0.0.1")
    for _ in range(2):
        await signins.failed("a@x.test", "10.0.0.1")
    assert await signins.wait("a@x.test", "10.0.0.1") == 0


def test_an_unknown_account_costs_one_hash_verification_like_a_known_one() -> None:
    calls: list[str] = []

    def counting(stored: str, password: str) -> bool:
        calls.append(stored)
        return verify_password(stored, password)

    signins = SignIns(verify=counting)
    stored = hash_password("right password")
    assert signins.matches(stored, "right password") is True
    assert signins.matches(stored, "wrong") is False
    assert signins.matches(None, "right password") is False
    assert signins.matches(None, "anything") is False
    assert len(calls) == 4
    assert calls[2].startswith("$argon2id$")  # a real hash with the real parameters
    assert calls[2] == calls[3] != stored
