"""A published flow's call refused before its run starts, as both its routes see it."""

from __future__ import annotations

import pytest

from plait.publishing.calls import checked_idempotency_key, count_call
from plait.publishing.ratelimit import RateLimiter
from plait.publishing.refusals import BadIdempotencyKey, CallRefused, RateLimited
from plait.store.flows import PublishedFlow


def _published(per_minute: int) -> PublishedFlow:
    return PublishedFlow("flow-1", 1, "hash", {}, per_minute, None, None)


@pytest.mark.parametrize("key", [None, "k", "x" * 255])
def test_an_idempotency_key_of_1_to_255_characters_is_taken(key: str | None) -> None:
    assert checked_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_an_empty_or_too_long_idempotency_key_is_refused(key: str) -> None:
    with pytest.raises(BadIdempotencyKey) as refused:
        checked_idempotency_key(key)
    assert isinstance(refused.value, CallRefused)
    assert str(refused.value) == "Idempotency-Key must be 1 to 255 characters"


async def test_calls_past_the_trigger_limit_are_refused_per_trigger() -> None:
    limiter, published = RateLimiter(), _published(2)
    verdicts = [await count_call(limiter, published, "trigger") for _ in range(2)]
    assert [v.remaining for v in verdicts] == [1, 0]
    with pytest.raises(RateLimited) as refused:
        await count_call(limiter, published, "trigger")
    verdict = refused.value.verdict
    assert (verdict.allowed, verdict.limit) == (False, 2)
    assert str(refused.value) == (
        "over this trigger's limit of 2 requests per minute; "
        f"retry after {verdict.headers()['Retry-After']} s"
    )
    assert (await count_call(limiter, published, "other")).remaining == 1  # its own window
