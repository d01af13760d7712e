"""Calling a trigger caller back with the run's result, signed with its trigger secret.

The body is JSON; `X-Plait-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by
the trigger secret>` lets the receiver check it came from this Plait. Delivery goes
through the guarded client and is retried a few times on network errors and 5xx.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from plait.crypto.signing import body_signature
from plait.errors import InputError, Problem
from plait.net import GuardedClient, HttpStatusError, NetError, parse_url

log = logging.getLogger(__name__)

ATTEMPTS = 4
FIRST_DELAY_SECONDS = 1.0


async def checked_callback_url(client: GuardedClient, url: str) -> str:
    """The URL if the guard allows it; else an InputError naming the `callback_url` field."""
    try:
        parse_url(url)
        await client.check(url)
    except NetError as exc:
        raise InputError(
            f"callback_url: {exc.message}", problems=[Problem(exc.message, field="callback_url")]
        ) from None
    return url


@dataclass(frozen=True)
class Attempt:
    """How one POST of a callback went."""

    delivered: bool
    retry: bool  # a transient failure: worth another attempt
    reason: str = ""


async def post_once(
    client: GuardedClient, url: str, secret: str, payload: dict[str, Any]
) -> Attempt:
    """POST the signed payload once. Every `NetError` (a redirect to an odd scheme
    included) and 5xx are transient; any other status the receiver refused it with."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Plait-Signature": body_signature(secret, body),
        "X-Plait-Run-Id": str(payload.get("run_id")),
    }
    try:
        response = await client.post(url, content=body, headers=headers, max_bytes=65536)
        response.raise_for_status()
        return Attempt(True, False)
    except HttpStatusError as exc:
        return Attempt(False, exc.status_code >= 500, exc.message)
    except NetError as exc:
        return Attempt(False, True, exc.message)


async def deliver(
    client: GuardedClient,
    url: str,
    secret: str,
    payload: dict[str, Any],
    *,
    first_delay: float = FIRST_DELAY_SECONDS,
) -> bool:
    """POST the payload, retrying transient failures (`post_once`), waiting `first_delay`
    seconds and doubling; True once the receiver took it. (A trigger's callbacks go through
    the outbox instead, `plait.publishing.outbox`, which outlives this process.)"""
    delay = first_delay
    origin = parse_url(url).origin
    for attempt in range(1, ATTEMPTS + 1):
        outcome = await post_once(client, url, secret, payload)
        if outcome.delivered:
            return True
        if not outcome.retry:
            log.warning("callback to %s refused: %s", origin, outcome.reason)
            return False
        log.warning(
            "callback to %s failed (attempt %d of %d): %s",
            origin,
            attempt,
            ATTEMPTS,
            outcome.reason,
        )
        if attempt < ATTEMPTS:
            await asyncio.sleep(delay)
            delay *= 2
    return False
