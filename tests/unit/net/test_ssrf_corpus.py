"""SSRF attempts: every one is refused with a clear error, before anything is sent.

The client has the default policy (empty allow list), a fake resolver and a transport
that fails the test if a request ever reaches it.
"""

from __future__ import annotations

import httpx
import pytest

from plait.net import BlockedAddress, GuardedClient, NetError, UrlRefused
from tests.fakes.web import FakeResolver

B, U = BlockedAddress, UrlRefused
ALLOW_HINT = "to PLAIT_NET_ALLOW to allow it"

# (url, what the fake DNS answers for its host, expected error, words the message must hold)
CORPUS: list[tuple[str, list[str] | None, type[NetError], str]] = [
    # loopback and "this network"
    ("http://127.0.0.1/", None, B, "127.0.0.1 is a loopback address"),
    ("http://127.0.0.2:8080/admin", None, B, "127.0.0.2 is a loopback address"),
    ("http://localhost/", ["127.0.0.1"], B, "localhost resolves to 127.0.0.1, which is a loopback"),
    ("http://localhost./", ["127.0.0.1"], B, "which is a loopback address"),
    ("http://0.0.0.0:8000/", None, B, "0.0.0.0 is in 0.0.0.0/8"),
    ("http://[::1]/", None, B, "::1 is the IPv6 loopback address"),
    ("http://[::]/", None, B, ":: is the unspecified address"),
    # RFC 1918, CGNAT
    (
        "http://10.0.0.1/",
        None,
        B,
        "refused http://10.0.0.1/: 10.0.0.1 is a private address; add it",
    ),
    ("http://172.16.5.4/", None, B, "172.16.5.4 is a private address"),
    ("http://192.168.0.1/router", None, B, "192.168.0.1 is a private address"),
    ("http://100.64.0.1/", None, B, "a carrier-grade NAT address"),
    # link-local and cloud metadata
    ("http://169.254.169.254/latest/meta-data/", None, B, "the cloud metadata address"),
    ("http://metadata.google.internal/", ["169.254.169.254"], B, "the cloud metadata address"),
    ("http://169.254.10.10/", None, B, "a link-local address"),
    ("http://[fe80::1]/", None, B, "fe80::1 is a link-local address"),
    ("http://[fe80::1%25eth0]/", None, U, "has a zone id"),
    ("http://lan.example/", ["fe80::1%eth0"], B, "an IPv6 address with a zone id"),
    # IPv6 ranges and IPv4 embedded in IPv6
    ("http://[fd00::1]/", None, B, "a unique local address (fc00::/7)"),
    ("http://[::ffff:127.0.0.1]/", None, B, "::ffff:7f00:1 is a loopback address"),
    ("http://[::ffff:7f00:1]:8080/", None, B, "is a loopback address"),
    ("http://[::ffff:169.254.169.254]/", None, B, "the cloud metadata address"),
    ("http://[64:ff9b::7f00:1]/", None, B, "a NAT64 address"),
    ("http://[64:ff9b::a9fe:a9fe]/", None, B, "a NAT64 address"),
    ("http://[64:ff9b:1::a00:1]/", None, B, "a local NAT64 address"),
    ("http://[2002:7f00:1::]/", None, B, "a 6to4 address"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", None, B, "a Teredo address"),
    ("http://[ff02::1]/", None, B, "a multicast address"),
    # other special IPv4 ranges
    ("http://224.0.0.1/", None, B, "a multicast address"),
    ("http://255.255.255.255/", None, B, "the broadcast address"),
    ("http://192.0.2.1/", None, B, "a documentation address"),
    ("http://240.1.2.3/", None, B, "a reserved address"),
    # numeric spellings of 127.0.0.1 and friends
    ("http://2130706433/", None, U, "'2130706433' is not a standard IPv4 address"),
    ("http://0177.0.0.1/", None, U, "'0177.0.0.1' is not a standard IPv4 address"),
    ("http://0x7f.0.0.1/", None, U, "'0x7f.0.0.1' is not a standard IPv4 address"),
    ("http://0x7f000001/", None, U, "is not a standard IPv4 address"),
    ("http://017700000001/", None, U, "is not a standard IPv4 address"),
    ("http://127.1/", None, U, "'127.1' is not a standard IPv4 address"),
    ("http://0/", None, U, "'0' is not a standard IPv4 address"),
    ("http://169.254.43518/", None, U, "is not a standard IPv4 address"),
    # public-looking names that resolve inward
    (
        "http://images.example.com/a.png",
        ["10.0.0.7"],
        B,
        "resolves to 10.0.0.7, which is a private",
    ),
    ("https://cdn.example.com/", ["93.184.216.34", "10.0.0.7"], B, "resolves to 10.0.0.7"),
    ("http://v6.example.com/", ["::1"], B, "resolves to ::1, which is the IPv6 loopback"),
    ("http://mapped.example.com/", ["::ffff:10.0.0.1"], B, "which is a private address"),
    ("http://nat64.example.com/", ["64:ff9b::a00:1"], B, "a NAT64 address"),
    # schemes other than http(s)
    ("file:///etc/passwd", None, U, "only http and https URLs are fetched, not 'file:'"),
    ("ftp://example.com/x", None, U, "not 'ftp:'"),
    ("gopher://127.0.0.1:25/_HELO", None, U, "not 'gopher:'"),
    ("data:text/plain,hello", None, U, "not 'data:'"),
    ("dict://127.0.0.1:11211/stats", None, U, "not 'dict:'"),
    # credentials and parser tricks
    ("http://user:pass@example.com/", None, U, "credentials in a URL"),
    ("https://admin@example.com/", None, U, "credentials in a URL"),
    ("http://127.0.0.1:80@example.com/", None, U, "credentials in a URL"),
    ("http://example.com\\@127.0.0.1/", None, U, "a backslash"),
    ("http://example.com /", None, U, "a space"),
]


def _never_sent(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a refused request was sent: {request.url}")


@pytest.mark.parametrize(("url", "dns", "error", "words"), CORPUS, ids=[c[0] for c in CORPUS])
async def test_refused_before_sending(
    url: str, dns: list[str] | None, error: type[NetError], words: str
) -> None:
    resolver = FakeResolver()
    target_host = httpx.URL(url).host if dns else None
    if target_host:
        resolver.add(target_host, dns or [])
    client = GuardedClient(resolver=resolver, transport=httpx.MockTransport(_never_sent))
    with pytest.raises(error) as info:
        await client.get(url)
    message = str(info.value)
    assert words in message
    assert message.startswith("refused ")
    if error is BlockedAddress:  # the hint is given where the allow list can help
        assert message.endswith(ALLOW_HINT) != any(
            never in message for never in ("zone id", "metadata")
        )


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 40
