"""The allow list for private deployments (`PLAIT_NET_ALLOW`): hosts and networks Plait may
reach although they are not global. Empty by default: only global addresses are reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network

from plait.net.addresses import IPAddress, never_allowed, refusal, unwrap
from plait.net.errors import NetError

IPNetwork = IPv4Network | IPv6Network
ALLOW_VARIABLE = "PLAIT_NET_ALLOW"


@dataclass(frozen=True, slots=True)
class NetPolicy:
    """Exact host names (any address they resolve to is allowed) and networks (CIDRs)."""

    hosts: frozenset[str] = field(default_factory=frozenset)
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> NetPolicy:
        """`"images.internal, 10.1.0.0/16, 192.168.1.7"`; raises NetError on a bad entry."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            network = _network(entry)
            if network is not None:
                networks.append(network)
            elif _looks_like_host(entry):
                hosts.add(normalize_host(entry))
            else:
                raise NetError(
                    f"{ALLOW_VARIABLE}: '{entry}' is neither a host name nor an address or "
                    "CIDR (e.g. images.internal, 10.0.0.5, 10.1.0.0/16)"
                )
        return cls(frozenset(hosts), tuple(networks))

    def refusal(self, host: str, ip: IPAddress) -> str | None:
        """Why `ip` (which `host` resolved to) may not be reached, or None when it may."""
        reason = refusal(ip)
        if reason is None or never_allowed(ip):
            return reason
        if normalize_host(host) in self.hosts or any(unwrap(ip) in net for net in self.networks):
            return None
        return reason


def normalize_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _network(entry: str) -> IPNetwork | None:
    try:
        return ip_network(entry, strict=False)
    except ValueError:
        return None


def _looks_like_host(entry: str) -> bool:
    labels = normalize_host(entry).split(".")
    return all(label and all(c.isalnum() or c in "-_" for c in label) for label in labels) and not (
        labels[-1].isdigit()
    )


__all__ = ["ALLOW_VARIABLE", "IPNetwork", "NetPolicy", "normalize_host"]
