"""Which IP addresses the guarded client may connect to: only globally routable ones.

The tables name each special range so a refusal can say what the address is.
`ipaddress.is_global` is the last word for anything the tables miss, and IPv6
must also lie in the global unicast block 2000::/3.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address

_METADATA = IPv4Address("169.254.169.254")

_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "in 0.0.0.0/8 ('this network')"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address (100.64.0.0/10)"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol address (192.0.0.0/24)"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)

_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("::1/128", "the IPv6 loopback address"),
        ("::/128", "the unspecified address"),
        ("64:ff9b::/96", "a NAT64 address (64:ff9b::/96) embedding an IPv4 address"),
        ("64:ff9b:1::/48", "a local NAT64 address (64:ff9b:1::/48)"),
        ("100::/64", "a discard-only address"),
        ("2001::/32", "a Teredo address (2001::/32) embedding an IPv4 address"),
        ("2001:db8::/32", "a documentation address"),
        ("2001::/23", "an IETF protocol address (2001::/23)"),
        ("2002::/16", "a 6to4 address (2002::/16) embedding an IPv4 address"),
        ("3fff::/20", "a documentation address"),
        ("5f00::/16", "a segment-routing address"),
        ("fc00::/7", "a unique local address (fc00::/7)"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")


def parse_ip(text: str) -> IPAddress | None:
    """The address `text` spells in standard notation (a.b.c.d, or IPv6), else None."""
    try:
        return ip_address(text)
    except ValueError:
        return None


def unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else `ip`."""
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def refusal(ip: IPAddress) -> str | None:
    """Why `ip` may not be reached ('a private address'), or None when it is global."""
    if isinstance(ip, IPv6Address) and ip.scope_id is not None:
        return "an IPv6 address with a zone id"
    ip = unwrap(ip)
    if ip == _METADATA:
        return "the cloud metadata address"
    if isinstance(ip, IPv4Address):
        return _lookup_v4(ip) or (None if ip.is_global else "not a globally routable address")
    return _lookup_v6(ip) or _not_global_v6(ip)


def never_allowed(ip: IPAddress) -> bool:
    """Refused even when the allow list covers it: zone ids and the cloud metadata address."""
    scoped = isinstance(ip, IPv6Address) and ip.scope_id is not None
    return scoped or unwrap(ip) == _METADATA


def _lookup_v4(ip: IPv4Address) -> str | None:
    return next((reason for net, reason in _V4 if ip in net), None)


def _lookup_v6(ip: IPv6Address) -> str | None:
    return next((reason for net, reason in _V6 if ip in net), None)


def _not_global_v6(ip: IPv6Address) -> str | None:
    if ip not in _V6_GLOBAL_UNICAST or not ip.is_global:
        return "not a globally routable address"
    return None


__all__ = ["IPAddress", "never_allowed", "parse_ip", "refusal", "unwrap"]
