from ipaddress import ip_address

import pytest

from plait.net.addresses import parse_ip, refusal, unwrap


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.255.255.254", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.255", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "the cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("100.64.0.1", "a carrier-grade NAT address (100.64.0.0/10)"),
        ("100.127.255.255", "a carrier-grade NAT address (100.64.0.0/10)"),
        ("0.0.0.0", "in 0.0.0.0/8 ('this network')"),
        ("0.1.2.3", "in 0.0.0.0/8 ('this network')"),
        ("192.0.2.10", "a documentation address"),
        ("198.51.100.1", "a documentation address"),
        ("203.0.113.5", "a documentation address"),
        ("198.18.0.1", "a benchmarking address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "the broadcast address"),
        ("::1", "the IPv6 loopback address"),
        ("::", "the unspecified address"),
        ("fc00::1", "a unique local address (fc00::/7)"),
        ("fd12:3456::1", "a unique local address (fc00::/7)"),
        ("fe80::1", "a link-local address"),
        ("fe80::1%eth0", "an IPv6 address with a zone id"),
        ("2001:4860::1%3", "an IPv6 address with a zone id"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:169.254.169.254", "the cloud metadata address"),
        ("64:ff9b::7f00:1", "a NAT64 address (64:ff9b::/96) embedding an IPv4 address"),
        ("64:ff9b::808:808", "a NAT64 address (64:ff9b::/96) embedding an IPv4 address"),
        ("64:ff9b:1::a00:1", "a local NAT64 address (64:ff9b:1::/48)"),
        ("2002:7f00:1::1", "a 6to4 address (2002::/16) embedding an IPv4 address"),
        (
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "a Teredo address (2001::/32) embedding an IPv4 address",
        ),
        ("2001:db8::1", "a documentation address"),
        ("::127.0.0.1", "not a globally routable address"),
        ("fec0::1", "a site-local address"),
    ],
)
def test_special_addresses_are_refused_with_their_name(address: str, reason: str) -> None:
    assert refusal(ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_global_addresses_are_allowed(address: str) -> None:
    assert refusal(ip_address(address)) is None


def test_unwrap_maps_only_ipv4_mapped_addresses() -> None:
    assert unwrap(ip_address("::ffff:10.1.2.3")) == ip_address("10.1.2.3")
    assert unwrap(ip_address("64:ff9b::a01:203")) == ip_address("64:ff9b::a01:203")


@pytest.mark.parametrize("text", ["2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "host", ""])
def test_parse_ip_takes_only_standard_notation(text: str) -> None:
    assert parse_ip(text) is None
