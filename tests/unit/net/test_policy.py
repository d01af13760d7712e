from ipaddress import ip_address

import pytest

from plait.net import NetError, NetPolicy


def test_empty_by_default_allows_only_global_addresses() -> None:
    policy = NetPolicy.parse("")
    assert policy == NetPolicy()
    assert policy.refusal("x", ip_address("8.8.8.8")) is None
    assert policy.refusal("x", ip_address("10.0.0.1")) == "a private address"


def test_hosts_and_networks() -> None:
    policy = NetPolicy.parse(" Images.Internal. , 10.1.0.0/16,192.168.1.7, fd00::/8 ")
    assert policy.hosts == frozenset({"images.internal"})
    # an allowed host may resolve to any (non-zone) address
    assert policy.refusal("images.internal", ip_address("10.9.9.9")) is None
    assert policy.refusal("IMAGES.internal.", ip_address("127.0.0.1")) is None
    assert policy.refusal("other", ip_address("10.1.200.3")) is None
    assert policy.refusal("other", ip_address("::ffff:10.1.200.3")) is None  # unwrapped first
    assert policy.refusal("other", ip_address("192.168.1.7")) is None
    assert policy.refusal("other", ip_address("192.168.1.8")) == "a private address"
    assert policy.refusal("other", ip_address("fd00::5")) is None
    assert policy.refusal("other", ip_address("10.2.0.1")) == "a private address"


def test_zone_ids_and_metadata_are_refused_even_when_allowed() -> None:
    policy = NetPolicy.parse("fe80::/10, 169.254.0.0/16, lan.host, metadata.internal")
    assert policy.refusal("lan.host", ip_address("fe80::1%eth0")) == (
        "an IPv6 address with a zone id"
    )
    for ip in ("169.254.169.254", "::ffff:169.254.169.254"):
        assert policy.refusal("metadata.internal", ip_address(ip)) == "the cloud metadata address"
    assert policy.refusal("x", ip_address("169.254.1.1")) is None


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "bad host", "http://x/", "1.2.3", "a..b"])
def test_bad_entries_are_named(entry: str) -> None:
    with pytest.raises(NetError, match=f"PLAIT_NET_ALLOW: '{entry}' is neither"):
        NetPolicy.parse(f"ok.host, {entry}")
