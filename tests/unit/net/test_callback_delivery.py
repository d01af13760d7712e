"""Callback delivery retries on every failure of the guard, odd redirects included."""

from __future__ import annotations

from plait.net import GuardedClient
from plait.publishing.callbacks import ATTEMPTS, deliver
from tests.fakes.web import LocalServer


async def test_a_callback_redirected_to_javascript_is_retried_then_given_up(
    client: GuardedClient, server: LocalServer
) -> None:
    url = f"{server.origin}/redirect?to=javascript:alert(1)"
    delivered = await deliver(client, url, "secret", {"run_id": "r1"}, first_delay=0)
    assert delivered is False
    assert [s.path for s in server.seen] == ["/redirect"] * ATTEMPTS


async def test_a_callback_that_lands_is_delivered_once(
    client: GuardedClient, server: LocalServer
) -> None:
    assert await deliver(client, f"{server.origin}/image.png", "s", {"run_id": "r"}, first_delay=0)
    assert [s.path for s in server.seen] == ["/image.png"]
