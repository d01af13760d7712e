"""Only `plait.net` opens HTTP connections for flow data.

Every module under src/plait is scanned: importing a network client library (or socket,
or a dynamic import of one), or calling a connection primitive, is allowed only in
`plait.net` and in the Gemini provider, whose SDK brings its own client (DESIGN §6).
Anything else, including modules that do not exist yet, fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "plait"

# plait.cli.remote and plait.mcp.proxy (`plait mcp`) talk to the user's own Plait server
# (PLAIT_URL), never for flow data
# the Gemini SDK's modules: the live provider, the Batch API on its client (its jobs,
# and their result files) and models.list
ALLOWED = (
    "plait.net",
    "plait.providers.gemini",
    "plait.providers.gemini_batch",
    "plait.providers.gemini_results",
    "plait.providers.gemini_models",
    "plait.cli.remote",
    "plait.mcp.proxy",
)
BANNED_MODULES = (
    "aiohttp",
    "ftplib",
    "google.auth",
    "google.genai",
    "h11",
    "h2",
    "http.client",
    "httpcore",
    "httpcore2",
    "httpx",
    "httpx2",
    "pycurl",
    "requests",
    "smtplib",
    "socket",
    "telnetlib",
    "urllib.request",
    "urllib3",
    "websockets",
    "xmlrpc.client",
)
# calls that open connections or resolve names without any import of the above
BANNED_ATTRIBUTES = (
    "create_connection",
    "create_datagram_endpoint",
    "getaddrinfo",
    "open_connection",
    "open_unix_connection",
    "sock_connect",
)
DYNAMIC_IMPORTS = ("import_module", "__import__")


def _banned(module: str) -> bool:
    return any(module == b or module.startswith(b + ".") for b in BANNED_MODULES)


def outbound_uses(source: str) -> list[str]:
    """What in `source` can open a network connection, one line per finding."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found += [f"{line}: import {a.name}" for a in node.names if _banned(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(_banned(name) for name in names):
                found.append(f"{line}: from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES:
            found.append(f"{line}: .{node.attr}")
        elif isinstance(node, ast.Call) and _callee(node) in DYNAMIC_IMPORTS:
            found.append(f"{line}: {_callee(node)}(...)")
    return found


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def test_no_module_outside_net_opens_connections() -> None:
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 50  # the scan really covers the package
    offenders = [
        f"{_module_name(path)}:{finding}"
        for path in modules
        if not _allowed(_module_name(path))
        for finding in outbound_uses(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "use plait.net's GuardedClient instead:\n" + "\n".join(offenders)


def test_the_allowed_modules_exist_and_really_use_the_network() -> None:
    # if these stop importing a client, the exception should go too
    assert outbound_uses((SRC / "net" / "client.py").read_text())
    assert outbound_uses((SRC / "providers" / "gemini.py").read_text())
    assert outbound_uses((SRC / "providers" / "gemini_batch.py").read_text())
    assert outbound_uses((SRC / "providers" / "gemini_results.py").read_text())
    assert outbound_uses((SRC / "cli" / "remote.py").read_text())


@pytest.mark.parametrize(
    "source",
    [
        "import httpx",
        "import httpx2 as h",
        "from httpx import AsyncClient",
        "import urllib.request",
        "from urllib import request",
        "from urllib.request import urlopen",
        "import socket",
        "from socket import create_connection",
        "import aiohttp",
        "import requests.sessions",
        "from http import client",
        "from http.client import HTTPSConnection",
        "from google import genai",
        "import asyncio\nasync def f():\n    await asyncio.open_connection('h', 80)",
        "async def f(loop):\n    await loop.create_connection(lambda: None, 'h', 80)",
        "async def f(loop):\n    await loop.getaddrinfo('h', 80)",
        "import importlib\nimportlib.import_module('ht' + 'tpx')",
        "__import__('socket')",
    ],
)
def test_the_scan_catches(source: str) -> None:
    assert outbound_uses(source)


@pytest.mark.parametrize(
    "source",
    [
        "from urllib.parse import urlsplit",
        "from http import HTTPStatus",
        "from importlib import resources",
        "from plait.net import GuardedClient",
        "from .httpx import thing",  # a relative import of a local module
        "import json",
    ],
)
def test_the_scan_allows(source: str) -> None:
    assert outbound_uses(source) == []
