"""`GuardedClient`: the one way Plait makes an HTTP request that a flow caused.

Every hop: parse the URL strictly, resolve the host once, refuse if any address is not
allowed, then connect to exactly that address (the URL is rewritten to the IP; the Host
header and TLS server name stay the host's), so a second DNS answer cannot swap it.
Redirects are followed by hand, each hop checked again. Bodies are capped while they
stream, and the whole exchange, redirects included, has one deadline.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

import httpx

from plait.net.addresses import IPAddress, never_allowed, unwrap
from plait.net.errors import (
    BlockedAddress,
    HttpStatusError,
    NetError,
    NetTimeout,
    ResponseTooLarge,
    TooManyRedirects,
    UrlRefused,
)
from plait.net.policy import ALLOW_VARIABLE, NetPolicy
from plait.net.resolver import Resolver, SystemResolver
from plait.net.url import Target, parse_url

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TIME_LIMIT = 30.0
DEFAULT_MAX_REDIRECTS = 5
USER_AGENT = "Plait (self-hosted)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CROSS_ORIGIN_DROPPED = ("authorization", "cookie", "proxy-authorization")


@dataclass(frozen=True, slots=True)
class Response:
    url: str  # the final URL, by host name (after redirects)
    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case ('' when not sent)."""
        value: str = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()

    def raise_for_status(self) -> None:
        """Raise HttpStatusError unless the status is 2xx."""
        if not self.ok:
            origin = parse_url(self.url).origin
            raise HttpStatusError(
                f"{origin} answered HTTP {self.status_code}", status_code=self.status_code
            )


class GuardedClient:
    """An async HTTP client that only reaches allowed addresses (see the module docstring)."""

    def __init__(
        self,
        policy: NetPolicy | None = None,
        *,
        resolver: Resolver | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        time_limit: float = DEFAULT_TIME_LIMIT,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        verify: ssl.SSLContext | bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.policy = policy or NetPolicy()
        self.resolver: Resolver = resolver or SystemResolver()
        self.max_bytes = max_bytes
        self.time_limit = time_limit
        self.max_redirects = max_redirects
        self._verify = verify
        self._transport = transport
        self._http: httpx.AsyncClient | None = None  # made on first use: cheap to construct

    async def __aenter__(self) -> GuardedClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        time_limit: float | None = None,
    ) -> Response:
        return await self.request(
            "GET", url, headers=headers, max_bytes=max_bytes, time_limit=time_limit
        )

    async def post(
        self,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        time_limit: float | None = None,
        follow_redirects: bool = False,
    ) -> Response:
        return await self.request(
            "POST",
            url,
            content=content,
            headers=headers,
            max_bytes=max_bytes,
            time_limit=time_limit,
            follow_redirects=follow_redirects,
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        time_limit: float | None = None,
        follow_redirects: bool = True,
    ) -> Response:
        """Send one request (following up to `max_redirects` redirects); raises NetError."""
        target = parse_url(url)
        deadline = time_limit if time_limit is not None else self.time_limit
        exchange = _Exchange(method.upper(), target, dict(headers or {}), content)
        try:
            async with asyncio.timeout(deadline):
                limit = self.max_bytes if max_bytes is None else max_bytes
                return await self._follow(exchange, limit, follow_redirects)
        except TimeoutError:
            raise NetTimeout(
                f"gave up on {exchange.target.origin}: no complete answer within {deadline:g} s"
            ) from None

    async def check(self, url: str) -> list[IPAddress]:
        """Resolve and check `url`'s host without sending anything: the addresses it would use."""
        return await self._addresses(parse_url(url))

    async def _follow(self, exchange: _Exchange, max_bytes: int, follow: bool) -> Response:
        for _hop in range(self.max_redirects + 1):
            addresses = await self._addresses(exchange.target)
            response = await self._send(exchange, addresses, max_bytes, follow)
            location = response.headers.get("location")
            if not follow or response.status_code not in _REDIRECTS or location is None:
                return response
            exchange = exchange.redirected(response.status_code, location)
        raise TooManyRedirects(
            f"gave up on {exchange.target.origin}: more than {self.max_redirects} redirects"
        )

    async def _addresses(self, target: Target) -> list[IPAddress]:
        if target.ip is not None:
            addresses = [target.ip]
        else:
            try:
                addresses = await self.resolver.resolve(target.host, target.port)
            except OSError as exc:
                raise NetError(f"could not resolve {target.origin}: {exc}") from None
        for ip in addresses:
            reason = self.policy.refusal(target.host, ip)
            if reason is not None:
                raise _blocked(target, ip, reason)
        return [unwrap(ip) for ip in addresses]

    async def _send(
        self, exchange: _Exchange, addresses: list[IPAddress], max_bytes: int, follow: bool
    ) -> Response:
        failure: Exception | None = None
        for ip in addresses:
            request = exchange.request_to(self._client(), ip)
            try:
                response = await self._client().send(request, stream=True)
            except httpx.ConnectError as exc:  # try the host's next address
                failure = exc
                continue
            except httpx.TimeoutException:
                raise TimeoutError from None
            except httpx.HTTPError as exc:
                raise NetError(f"request to {exchange.target.origin} failed: {_why(exc)}") from None
            except httpx.InvalidURL:  # httpx reads a redirect's Location even when not following
                raise UrlRefused(
                    f"{exchange.target.origin} redirected to a URL that is not http(s) "
                    "(javascript:, mailto:, data:, about: …); only http and https are fetched"
                ) from None
            try:
                skip_body = follow and response.status_code in _REDIRECTS
                body = b"" if skip_body else await _read(response, max_bytes, exchange.target)
            finally:
                await response.aclose()
            return Response(str(exchange.target.url), response.status_code, response.headers, body)
        raise NetError(f"could not connect to {exchange.target.origin}: {_why(failure)}")

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            transport = self._transport or httpx.AsyncHTTPTransport(
                verify=self._verify,
                trust_env=False,
                # no pooling: a pooled connection is keyed by IP and could be reused for
                # another host name on that IP without checking its certificate
                limits=httpx.Limits(max_keepalive_connections=0),
            )
            self._http = httpx.AsyncClient(
                transport=transport,
                trust_env=False,  # no proxies from the environment: we connect ourselves
                follow_redirects=False,
                timeout=httpx.Timeout(self.time_limit),
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            )
        return self._http


@dataclass(frozen=True, slots=True)
class _Exchange:
    method: str
    target: Target
    headers: dict[str, str]
    content: bytes | None

    def request_to(self, client: httpx.AsyncClient, ip: IPAddress) -> httpx.Request:
        extensions = {"sni_hostname": self.target.host} if self.target.scheme == "https" else {}
        return client.build_request(
            self.method,
            self.target.url.copy_with(host=str(ip)),
            headers={**self.headers, "Host": self.target.netloc},
            content=self.content,
            extensions=extensions,
        )

    def redirected(self, status: int, location: str) -> _Exchange:
        try:
            next_url = self.target.url.join(location)
        except (httpx.InvalidURL, ValueError) as exc:
            raise NetError(f"{self.target.origin} redirected to an invalid URL ({exc})") from None
        target = parse_url(next_url)
        keep_body = status in (307, 308) or (status in (301, 302) and self.method != "POST")
        method = self.method if keep_body or self.method == "HEAD" else "GET"
        headers = self.headers
        if (target.scheme, target.netloc) != (self.target.scheme, self.target.netloc):
            headers = {k: v for k, v in headers.items() if k.lower() not in _CROSS_ORIGIN_DROPPED}
        return _Exchange(method, target, headers, self.content if keep_body else None)


async def _read(response: httpx.Response, max_bytes: int, target: Target) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(target, max_bytes, f"it announced {int(declared)} bytes")
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > max_bytes:
                raise _too_large(target, max_bytes, "it sent more")
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise TimeoutError from None
    except httpx.HTTPError as exc:
        raise NetError(f"reading the answer from {target.origin} failed: {_why(exc)}") from None
    return b"".join(chunks)


def _blocked(target: Target, ip: IPAddress, reason: str) -> BlockedAddress:
    if target.ip is not None:
        message = f"refused {target.origin}: {ip} is {reason}"
        remedy = f"add it to {ALLOW_VARIABLE} to allow it"
    else:
        message = f"refused {target.origin}: {target.host} resolves to {ip}, which is {reason}"
        remedy = f"add the host or the address to {ALLOW_VARIABLE} to allow it"
    if not never_allowed(ip):
        message = f"{message}; {remedy}"
    return BlockedAddress(message, host=target.host, address=str(ip))


def _too_large(target: Target, max_bytes: int, detail: str) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"refused the answer from {target.origin}: the limit is {max_bytes} bytes and {detail}"
    )


def _why(exc: Exception | None) -> str:
    if exc is None:
        return "no address to try"
    return str(exc) or type(exc).__name__


__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_TIME_LIMIT",
    "GuardedClient",
    "Response",
]
