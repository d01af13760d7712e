from ipaddress import ip_address

from plait.net import SystemResolver
from plait.net.resolver import _address


async def test_system_resolver_answers_from_the_os() -> None:
    # numeric and /etc/hosts answers: no DNS traffic leaves the machine
    assert await SystemResolver().resolve("127.0.0.1", 80) == [ip_address("127.0.0.1")]
    found = await SystemResolver().resolve("localhost", 80)
    assert found
    assert {str(ip) for ip in found} <= {"127.0.0.1", "::1"}


def test_ipv6_scope_is_kept_so_the_policy_can_refuse_it() -> None:
    scoped = _address(("fe80::1", 80, 0, 2))
    assert scoped is not None
    assert scoped.scope_id == "2"  # type: ignore[union-attr]
    assert _address(("2001:db8::1", 80, 0, 0)) == ip_address("2001:db8::1")
    assert _address(("10.0.0.1", 80)) == ip_address("10.0.0.1")
