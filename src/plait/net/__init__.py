"""The one guarded outbound HTTP client: every request a flow causes goes through here.

See docs/security.md for what is refused and why.
"""

from plait.net.addresses import IPAddress, refusal
from plait.net.client import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIME_LIMIT,
    GuardedClient,
    Response,
)
from plait.net.errors import (
    BlockedAddress,
    HttpStatusError,
    NetError,
    NetTimeout,
    ResponseTooLarge,
    TooManyRedirects,
    UrlRefused,
)
from plait.net.fetch import FetchedImage, fetch_image
from plait.net.policy import NetPolicy
from plait.net.resolver import Resolver, SystemResolver
from plait.net.url import Target, parse_url

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_TIME_LIMIT",
    "BlockedAddress",
    "FetchedImage",
    "GuardedClient",
    "HttpStatusError",
    "IPAddress",
    "NetError",
    "NetPolicy",
    "NetTimeout",
    "Resolver",
    "Response",
    "ResponseTooLarge",
    "SystemResolver",
    "Target",
    "TooManyRedirects",
    "UrlRefused",
    "fetch_image",
    "parse_url",
    "refusal",
]
