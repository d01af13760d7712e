"""Calling a trigger caller back with the run's result, signed with its trigger secret.

The body is JSON; `X-Plait-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by
the trigger secret>` lets the receiver check it came from this Plait. Delivery goes
through the guarded client and is retried a few times on network errors and 5xx.
"""

from __future__ import annotations

import asyncio
import json
import logging
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


async def deliver(
    client: GuardedClient,
    url: str,
    secret: str,
    payload: dict[str, Any],
    *,
    first_delay: float = FIRST_DELAY_SECONDS,
) -> bool:
    """POST the payload, retrying transient failures (every `NetError`, a redirect to an odd
    scheme included, and 5xx), waiting `first_delay` seconds and doubling; True once the
    receiver took it."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Plait-Signature": body_signature(secret, body),
        "X-Plait-Run-Id": str(payload.get("run_id")),
    }
    delay = first_delay
    origin = parse_url(url).origin
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = await client.post(url, content=body, headers=headers, max_bytes=65536)
            response.raise_for_status()
            return True
        except HttpStatusError as exc:
            if exc.status_code < 500:
                log.warning("callback to %s refused: %s", origin, exc.message)
                return False
            reason = exc.message
        except NetError as exc:
            reason = exc.message
        log.warning(
            "callback to %s failed (attempt %d of %d): %s", origin, attempt, ATTEMPTS, reason
        )
        if attempt < ATTEMPTS:
            await asyncio.sleep(delay)
            delay *= 2
    return False
