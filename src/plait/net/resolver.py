"""Name resolution as a seam: the client resolves through a `Resolver`; tests pass a fake."""

from __future__ import annotations

import asyncio
import socket
from typing import Protocol

from plait.net.addresses import IPAddress, parse_ip

SockAddr = tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes]


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` has, in the order to try them; raises OSError when none."""
        ...


class SystemResolver:
    """The operating system's resolver (`getaddrinfo`, run off the event loop)."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found: list[IPAddress] = []
        for *_, sockaddr in infos:
            ip = _address(sockaddr)
            if ip is not None and ip not in found:
                found.append(ip)
        if not found:
            raise OSError(f"{host} has no addresses")
        return found


def _address(sockaddr: SockAddr) -> IPAddress | None:
    text = sockaddr[0]
    if not isinstance(text, str):
        return None
    if len(sockaddr) == 4 and sockaddr[3]:  # an IPv6 scope: keep it so the policy refuses it
        text = f"{text.split('%')[0]}%{sockaddr[3]}"
    return parse_ip(text)


__all__ = ["Resolver", "SystemResolver"]
