"""The guarded client against a real server on 127.0.0.1 (and a mock transport where the
address must look public). Host names resolve through the fake resolver."""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from plait.net import (
    BlockedAddress,
    GuardedClient,
    HttpStatusError,
    NetError,
    NetPolicy,
    NetTimeout,
    ResponseTooLarge,
    TooManyRedirects,
    UrlRefused,
)
from tests.fakes.web import LOOPBACK_ONLY, PNG, FakeResolver, LocalServer


async def test_connects_to_the_checked_address_with_the_host_header(
    client: GuardedClient, server: LocalServer, resolver: FakeResolver
) -> None:
    resolver.add("images.test", ["127.0.0.1"])
    response = await client.get(f"http://images.test:{server.port}/image.png?x=1")
    assert (response.status_code, response.content, response.content_type) == (
        200,
        PNG,
        "image/png",
    )
    assert response.url == f"http://images.test:{server.port}/image.png?x=1"
    [seen] = server.seen
    assert seen.host == f"images.test:{server.port}"
    assert resolver.calls == [("images.test", server.port)]


async def test_dns_rebinding_cannot_swap_the_address(
    client: GuardedClient, server: LocalServer, resolver: FakeResolver
) -> None:
    # first answer: the allowed test server; every later answer: a private address
    resolver.add("rebind.test", ["127.0.0.1"], ["10.0.0.1"])
    response = await client.get(f"http://rebind.test:{server.port}/image.png")
    assert response.content == PNG
    assert len(resolver.calls) == 1  # resolved once: the connection used that answer
    assert [s.host for s in server.seen] == [f"rebind.test:{server.port}"]
    # the next request resolves afresh, and is refused
    with pytest.raises(
        BlockedAddress, match=re.escape("resolves to 10.0.0.1, which is a private address")
    ):
        await client.get(f"http://rebind.test:{server.port}/image.png")
    assert len(server.seen) == 1


async def test_public_answer_is_the_one_connected_to() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    resolver = FakeResolver({"cdn.example": [["93.184.216.34"], ["10.0.0.1"]]})
    client = GuardedClient(resolver=resolver, transport=httpx.MockTransport(handler))
    await client.get("https://cdn.example/a.png")
    [request] = seen
    assert request.url == httpx.URL("https://93.184.216.34/a.png")
    assert request.headers["host"] == "cdn.example"
    assert request.extensions["sni_hostname"] == "cdn.example"  # TLS checks the name
    assert len(resolver.calls) == 1


async def test_every_redirect_hop_is_checked(
    client: GuardedClient, server: LocalServer, resolver: FakeResolver
) -> None:
    resolver.add("inside.test", ["192.168.1.20"])
    for to, words in [
        ("http://10.0.0.1/", "refused http://10.0.0.1/: 10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest", "the cloud metadata address"),
        ("http://inside.test/", "inside.test resolves to 192.168.1.20"),
        ("http://[::ffff:10.0.0.1]/", "is a private address"),
    ]:
        with pytest.raises(BlockedAddress, match=re.escape(words)):
            await client.get(f"{server.origin}/redirect?to={to}")
    with pytest.raises(UrlRefused, match="not 'file:'"):
        await client.get(f"{server.origin}/redirect?to=file:///etc/passwd")
    assert {s.path for s in server.seen} == {"/redirect"}  # nothing after a refused hop


async def test_allowed_redirects_are_followed(client: GuardedClient, server: LocalServer) -> None:
    response = await client.get(f"{server.origin}/redirect?to=/image.png")
    assert (response.content, response.url) == (PNG, f"{server.origin}/image.png")


async def test_redirects_are_bounded(client: GuardedClient, server: LocalServer) -> None:
    with pytest.raises(TooManyRedirects, match="more than 5 redirects"):
        await client.get(f"{server.origin}/loop")
    assert len(server.seen) == 6


async def test_redirect_methods_bodies_and_credentials(
    client: GuardedClient, server: LocalServer, resolver: FakeResolver
) -> None:
    resolver.add("other.test", ["127.0.0.1"])
    await client.request(
        "POST",
        f"{server.origin}/redirect?status=307&to=/echo",
        content=b"payload",
        headers={"Authorization": "Bearer t"},
    )
    await client.request(
        "POST", f"{server.origin}/redirect?status=303&to=/echo", content=b"payload"
    )
    await client.get(
        f"{server.origin}/redirect?to=http://other.test:{server.port}/echo",
        headers={"Authorization": "Bearer t"},
    )
    hops = [s for s in server.seen if s.path == "/echo"]
    assert [(s.method, s.body) for s in hops] == [("POST", b"payload"), ("GET", b""), ("GET", b"")]
    assert hops[0].headers.get("Authorization") == "Bearer t"  # same origin: kept
    assert "Authorization" not in hops[2].headers  # another host: dropped


async def test_post_does_not_follow_redirects_by_default(
    client: GuardedClient, server: LocalServer
) -> None:
    response = await client.post(f"{server.origin}/redirect?to=http://10.0.0.1/", content=b"{}")
    assert response.status_code == 302


async def test_announced_size_over_the_cap_is_refused_unread(
    client: GuardedClient, server: LocalServer
) -> None:
    with pytest.raises(ResponseTooLarge, match="the limit is 1000 bytes and it announced"):
        await client.get(f"{server.origin}/big", max_bytes=1000)


async def test_endless_body_is_cut_at_the_cap(client: GuardedClient, server: LocalServer) -> None:
    with pytest.raises(ResponseTooLarge, match="the limit is 1000000 bytes and it sent more"):
        await client.get(f"{server.origin}/forever", max_bytes=1_000_000)


async def test_small_cap(client: GuardedClient, server: LocalServer) -> None:
    with pytest.raises(ResponseTooLarge):
        await client.get(f"{server.origin}/image.png", max_bytes=10)
    assert (await client.get(f"{server.origin}/image.png", max_bytes=len(PNG))).content == PNG


@pytest.mark.parametrize("path", ["/hang", "/partial", "/forever"])
async def test_one_deadline_for_the_whole_exchange(
    client: GuardedClient, server: LocalServer, path: str
) -> None:
    # /forever keeps sending, so only a total deadline (not a per-read one) can stop it
    with pytest.raises(NetTimeout, match=r"gave up on http://127\.0\.0\.1:\d+/: .* within 0\.3 s"):
        await client.get(f"{server.origin}{path}", max_bytes=10**12, time_limit=0.3)


async def test_next_address_is_tried_when_one_refuses(
    server: LocalServer, resolver: FakeResolver
) -> None:
    resolver.add("two.test", ["127.0.0.2", "127.0.0.1"])  # the server listens on .1 only
    async with GuardedClient(NetPolicy.parse("127.0.0.0/8"), resolver=resolver) as client:
        assert (await client.get(f"http://two.test:{server.port}/image.png")).content == PNG


async def test_connection_and_resolution_failures_are_net_errors(
    client: GuardedClient, resolver: FakeResolver
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(NetError, match=rf"could not connect to http://127\.0\.0\.1:{port}/"):
        await client.get(f"http://127.0.0.1:{port}/")
    with pytest.raises(NetError, match=re.escape("could not resolve http://nowhere.test/")):
        await client.get("http://nowhere.test/")


async def test_status_errors(client: GuardedClient, server: LocalServer) -> None:
    response = await client.get(f"{server.origin}/missing")
    assert (response.ok, response.status_code) == (False, 404)
    with pytest.raises(
        HttpStatusError, match=r"http://127\.0\.0\.1:\d+/ answered HTTP 404"
    ) as info:
        response.raise_for_status()
    assert info.value.status_code == 404


async def test_check_resolves_without_sending(server: LocalServer, resolver: FakeResolver) -> None:
    resolver.add("images.test", ["127.0.0.1"])
    client = GuardedClient(LOOPBACK_ONLY, resolver=resolver)
    assert [str(ip) for ip in await client.check("http://images.test/")] == ["127.0.0.1"]
    with pytest.raises(BlockedAddress):
        await GuardedClient(resolver=resolver).check("http://images.test/")
    assert server.seen == []


async def test_an_allowed_ipv4_mapped_literal_connects_to_its_ipv4(
    client: GuardedClient, server: LocalServer
) -> None:
    response = await client.get(f"http://[::ffff:127.0.0.1]:{server.port}/image.png")
    assert response.content == PNG
    assert [s.host for s in server.seen] == [f"[::ffff:127.0.0.1]:{server.port}"]


@pytest.mark.parametrize(
    "to", ["javascript:alert(1)", "mailto:a@example.com", "data:text/plain,hi", "about:blank"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_redirect_to_an_odd_scheme_is_the_guards_own_error(
    client: GuardedClient, server: LocalServer, to: str, method: str
) -> None:
    with pytest.raises(UrlRefused, match="redirected to a URL that is not http"):
        await client.request(method, f"{server.origin}/redirect?to={to}")
    assert {s.path for s in server.seen} == {"/redirect"}
