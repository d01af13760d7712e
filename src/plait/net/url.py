"""Strict parsing of the URLs Plait fetches: absolute http(s), no credentials, a host that
is a DNS name, a dotted-quad IPv4 or a bracketed IPv6 literal.

Numeric IPv4 spellings other than a.b.c.d (2130706433, 0177.0.0.1, 0x7f.0.0.1, 127.1)
are refused as malformed, not normalized: browsers, resolvers and proxies read them
differently, and no real image host needs them. The rule is WHATWG's: a host whose last
label is a number is an IPv4 address, and then it must be a standard one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from plait.net.addresses import IPAddress, parse_ip
from plait.net.errors import UrlRefused

MAX_URL_LENGTH = 8192
SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMBER = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_AUTHORITY = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:)?//(?:([^/?#]*)@)?([^/?#@]*)")


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: what to ask for, and which host (and literal IP, if any) it names."""

    url: httpx.URL
    host: str  # ASCII (IDNA), lower case, without brackets
    port: int
    ip: IPAddress | None  # set when the host is an IP literal

    @property
    def scheme(self) -> str:
        return self.url.scheme

    @property
    def origin(self) -> str:
        """`https://example.com/` style, for messages: never the path or query."""
        return f"{self.scheme}://{self.netloc}/"

    @property
    def netloc(self) -> str:
        """The Host header: the host, bracketed when IPv6, with the port unless default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def parse_url(url: str | httpx.URL) -> Target:
    """Check `url` and describe it; raises UrlRefused naming what is wrong."""
    text = str(url)
    shown = _shown(text)
    why = _bad_text(text) or _numeric_spelling(_raw_host(text))
    if why:
        raise UrlRefused(f"refused {shown}: {why}")
    try:
        parsed = httpx.URL(text)
        port = parsed.port
    except (httpx.InvalidURL, ValueError) as exc:
        raise UrlRefused(f"refused {shown}: not a valid URL ({exc})") from None
    if parsed.scheme not in SCHEMES:
        scheme = f"'{parsed.scheme}:'" if parsed.scheme else "a URL without a scheme"
        raise UrlRefused(f"refused {shown}: only http and https URLs are fetched, not {scheme}")
    if parsed.userinfo:
        raise UrlRefused(
            f"refused {shown}: credentials in a URL (user:password@) are not allowed; "
            "send them in a header instead"
        )
    host = parsed.raw_host.decode("ascii", "replace").lower()
    why = _bad_port(port) or _bad_host(host)
    if why:
        raise UrlRefused(f"refused {shown}: {why}")
    port = port or _DEFAULT_PORTS[parsed.scheme]
    return Target(parsed.copy_with(fragment=None), host, port, parse_ip(host))


def _bad_text(text: str) -> str | None:
    if len(text) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(c <= " " or c == "\x7f" or c == "\\" for c in text):
        return "the URL contains a space, a control character or a backslash"
    return None


def _bad_port(port: int | None) -> str | None:
    if port is not None and not 0 < port < 65536:
        return f"port {port} is out of range"
    return None


def _bad_host(host: str) -> str | None:
    if not host:
        return "the URL has no host"
    if ":" in host:
        return _bad_ipv6(host)
    if _is_number(host.removesuffix(".").split(".")[-1]):
        return _numeric_spelling(host)
    if len(host) > 254 or not all(_LABEL.match(x) for x in host.removesuffix(".").split(".")):
        return f"'{host}' is not a valid host name"
    return None


def _numeric_spelling(host: str) -> str | None:
    """Why `host` is a non-standard IPv4 spelling, or None (not numeric, or a.b.c.d)."""
    if not _is_number(host.removesuffix(".").split(".")[-1]):
        return None
    if host.endswith(".") or parse_ip(host) is None:
        return (
            f"'{host}' is not a standard IPv4 address; numeric spellings such as "
            "2130706433, 0177.0.0.1 or 0x7f.0.0.1 are refused: write a.b.c.d"
        )
    return None


def _raw_host(text: str) -> str:
    """The host as written (lower case), before any parser normalizes it; '' if bracketed."""
    authority = _AUTHORITY.match(text)
    host = authority.group(3).lower() if authority else ""
    return "" if host.startswith("[") else host.partition(":")[0]


def _bad_ipv6(host: str) -> str | None:
    if "%" in host:
        return f"'{host}' has a zone id; IPv6 addresses with a zone id are refused"
    if parse_ip(host) is None:
        return f"'{host}' is not a valid IPv6 address"
    return None


def _is_number(label: str) -> bool:
    return bool(_NUMBER.match(label))


def _shown(text: str) -> str:
    """Scheme and host of a URL for messages: never its path (it may carry secrets)."""
    authority = _AUTHORITY.match(text)
    if authority:
        scheme, userinfo, host = authority.groups()
        shown = f"{scheme or ''}//{'…@' if userinfo else ''}{host[:80]}/"
    else:
        scheme = _SCHEME.match(text)
        shown = f"{scheme.group(0)}…" if scheme else text[:40]
    return repr(shown) if not shown or any(c <= " " for c in shown) else shown


__all__ = ["MAX_URL_LENGTH", "SCHEMES", "Target", "parse_url"]
