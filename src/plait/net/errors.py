"""What the guarded client raises. Every message names the URL's origin and why."""

from __future__ import annotations

from plait.errors import PlaitError


class NetError(PlaitError):
    """An outbound request was refused or failed."""


class UrlRefused(NetError):
    """The URL itself is not one Plait fetches: malformed, not http(s), credentials, odd host."""


class BlockedAddress(NetError):
    """The host is, or resolves to, an address that is not globally routable nor allowed."""

    def __init__(self, message: str, *, host: str, address: str):
        super().__init__(message)
        self.host = host
        self.address = address


class TooManyRedirects(NetError):
    pass


class ResponseTooLarge(NetError):
    pass


class NetTimeout(NetError):
    pass


class HttpStatusError(NetError):
    """The server answered with a status that is not 2xx."""

    def __init__(self, message: str, *, status_code: int):
        super().__init__(message)
        self.status_code = status_code


__all__ = [
    "BlockedAddress",
    "HttpStatusError",
    "NetError",
    "NetTimeout",
    "ResponseTooLarge",
    "TooManyRedirects",
    "UrlRefused",
]
