"""Properties of the guard: whatever URL and DNS answers arrive, the client raises only
NetError, and a request that is sent goes to a checked, global IP under the host's name."""

from __future__ import annotations

import asyncio
import contextlib
from ipaddress import IPv4Address, IPv6Address, ip_address

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from plait.net import GuardedClient, NetError, refusal
from plait.net.addresses import IPAddress, unwrap
from plait.net.url import parse_url

SPECIAL_IPS = [
    "127.0.0.1",
    "10.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::ffff:127.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::",
    "2001::1",
    "fd00::1",
    "fe80::1",
    "8.8.8.8",
    "2606:4700::1111",
]
ips = st.ip_addresses() | st.sampled_from(SPECIAL_IPS).map(ip_address)
hosts = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True),
    ips.map(lambda ip: f"[{ip}]" if ip.version == 6 else str(ip)),
    st.sampled_from(["2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "[fe80::1%25eth0]"]),
)
urls = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, userinfo, host, port, path: f"{scheme}{userinfo}{host}{port}{path}",
        st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "file://", "//", "http:"]),
        st.sampled_from(["", "", "u:p@", "@", "a@b@"]),
        hosts,
        st.sampled_from(["", ":80", ":0", ":65536", ":-1", ":x"])
        | st.integers(0, 70000).map(lambda p: f":{p}"),
        st.text(max_size=20),
    ),
)


class DrawnResolver:
    def __init__(self, answer: list[IPAddress]):
        self.answer = answer

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        if not self.answer:
            raise OSError("no such host")
        return self.answer


@settings(max_examples=400, deadline=None)
@given(urls, st.lists(ips, max_size=3), st.lists(urls, max_size=3))
def test_only_net_errors_and_only_checked_addresses(
    url: str, answer: list[IPAddress], redirects: list[str]
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) <= len(redirects):
            location = redirects[len(sent) - 1].encode("utf-8", "surrogateescape")
            return httpx.Response(302, headers=[(b"Location", location)])
        return httpx.Response(200, content=b"ok")

    client = GuardedClient(resolver=DrawnResolver(answer), transport=httpx.MockTransport(handler))
    with contextlib.suppress(NetError):  # anything else fails the test
        asyncio.run(client.get(url))
    for request in sent:
        connected = ip_address(request.url.host)
        assert refusal(connected) is None  # only global addresses are ever reached
        named = parse_url(f"http://{request.headers['host']}/")
        if named.ip is None:  # a name: the address connected to is one it resolved to
            assert connected in [unwrap(ip) for ip in answer]
        else:
            assert unwrap(named.ip) == connected


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_addresses_are_judged_as_their_ipv4(ip: IPv4Address) -> None:
    mapped = IPv6Address(f"::ffff:{ip}")
    assert refusal(mapped) == refusal(ip)


@given(st.ip_addresses())
def test_what_is_allowed_is_global(ip: IPv4Address | IPv6Address) -> None:
    if refusal(ip) is None:
        assert unwrap(ip).is_global


@given(st.ip_addresses(v=4))
def test_embeddings_are_refused_whatever_they_embed(ip: IPv4Address) -> None:
    packed = int(ip)
    for prefix, shift in ((0x0064FF9B << 96, 0), (0x2002 << 112, 80)):
        assert refusal(IPv6Address(prefix | (packed << shift))) is not None
