"""Fakes for outbound HTTP: a resolver answering from a table, and a real HTTP server on
127.0.0.1 whose paths misbehave on purpose (redirects, endless bodies, silence).

Nothing leaves the machine: host names resolve through `FakeResolver`, and tests allow
only 127.0.0.1 (through the allow list, as a private deployment would).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from urllib.parse import parse_qs, urlsplit

from plait.net import NetPolicy
from plait.net.addresses import IPAddress
from tests.helpers import png

PNG = png(8, 6)


class FakeResolver:
    """Answers from a table; each call for a host takes the next answer (the last repeats)."""

    def __init__(self, answers: dict[str, list[list[str]]] | None = None):
        self.answers = answers or {}
        self.calls: list[tuple[str, int]] = []

    def add(self, host: str, *answers: list[str]) -> None:
        self.answers[host] = list(answers)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append((host, port))
        answers = self.answers.get(host)
        if not answers:
            raise OSError(f"[fake] unknown host {host}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [ip_address(a) for a in answer]


@dataclass
class Seen:
    path: str
    host: str | None
    method: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    """A real HTTP server on 127.0.0.1 with a few behaviours chosen by path."""

    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _make_handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            server.seen.append(
                Seen(parts.path, self.headers.get("host"), self.command, dict(self.headers), body)
            )
            route = server.routes.get(parts.path) or _BUILTIN.get(parts.path, _not_found)
            route(self)

    return Handler


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    h.send_response(status)
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _image(h: BaseHTTPRequestHandler) -> None:
    _send(h, 200, PNG, Content_Type="image/png")


def _text(h: BaseHTTPRequestHandler) -> None:
    _send(h, 200, b"<html>not an image</html>", Content_Type="text/html")


def _redirect(h: BaseHTTPRequestHandler) -> None:
    query = parse_qs(urlsplit(h.path).query)
    status = int(query.get("status", ["302"])[0])
    _send(h, status, b"", Location=query["to"][0])


def _loop(h: BaseHTTPRequestHandler) -> None:
    _send(h, 302, b"", Location="/loop")


def _announce_big(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", str(10**12))
    h.end_headers()


def _stream_forever(h: BaseHTTPRequestHandler) -> None:
    """A chunked body that never ends (until the client hangs up or the test ends)."""
    h.send_response(200)
    h.send_header("Content-Type", "image/png")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"x" * 65536
    stop: threading.Event = h.server.stop  # type: ignore[attr-defined]
    try:
        while not stop.is_set():
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    except OSError:
        pass


def _hang(h: BaseHTTPRequestHandler) -> None:
    """Accept the request and never answer (until the test ends)."""
    h.server.stop.wait()  # type: ignore[attr-defined]


def _headers_then_hang(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "1000")
    h.end_headers()
    h.wfile.write(b"partial")
    h.wfile.flush()
    h.server.stop.wait()  # type: ignore[attr-defined]


def _not_found(h: BaseHTTPRequestHandler) -> None:
    _send(h, 404, b"no such thing", Content_Type="text/plain")


_BUILTIN: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {
    "/image.png": _image,
    "/page": _text,
    "/redirect": _redirect,
    "/loop": _loop,
    "/big": _announce_big,
    "/forever": _stream_forever,
    "/hang": _hang,
    "/partial": _headers_then_hang,
}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hang up mid-answer on purpose (size caps, deadlines)


@contextmanager
def local_server() -> Iterator[LocalServer]:
    """A `LocalServer` on a free port of 127.0.0.1, stopped (with its handlers) on exit."""
    state = LocalServer()
    httpd = _QuietServer(("127.0.0.1", 0), _make_handler(state))
    httpd.stop = state.stop  # type: ignore[attr-defined]
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


LOOPBACK_ONLY = NetPolicy.parse("127.0.0.1")
