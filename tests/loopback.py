"""httpx clients for the servers the tests start on loopback.

httpx builds a TLS context for every client it makes, `httpx.get` included, loading
certifi's CA bundle: about 30 ms of CPU, even for an `http://` URL that never uses it.
A test makes clients by the hundred and polls servers that are starting, so these share
one context, made once (the same verification settings as httpx's default)."""

from __future__ import annotations

from typing import Any

import httpx

TLS = httpx.create_ssl_context()


def client(**kwargs: Any) -> httpx.Client:
    """`httpx.Client(**kwargs)` with the shared TLS context."""
    return httpx.Client(verify=TLS, **kwargs)


def async_client(**kwargs: Any) -> httpx.AsyncClient:
    """`httpx.AsyncClient(**kwargs)` with the shared TLS context."""
    return httpx.AsyncClient(verify=TLS, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.get(url, **kwargs)` with the shared TLS context."""
    with client() as once:
        return once.get(url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.post(url, **kwargs)` with the shared TLS context."""
    with client() as once:
        return once.post(url, **kwargs)
