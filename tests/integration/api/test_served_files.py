"""`GET /files/{id}`: images only, with their own type and `nosniff`; no path leads out of
the blob store, whatever the id, its encoding or its signature."""

from __future__ import annotations

import asyncio
import hashlib
import io
import socket
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from starlette.applications import Starlette
from starlette.routing import Mount

from plait.api.spa import SinglePageApp
from plait.crypto.signing import LinkSigner
from plait.media.blobs import BlobNotFound, LocalBlobStore
from tests.helpers import HEIC_PHOTO
from tests.integration.api import hostile
from tests.server import LiveServer, server_settings

CANARY = b"CANARY: a file outside the blob store"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("files") / "data"
    with LiveServer(server_settings(data, PLAIT_BASE_URL=None)) as live:
        live.settings.base_url = live.url
        # Files a traversal would aim for: beside the store, in the data dir, at its root.
        for place in (data / "canary", data / "blobs" / "canary", data / "blobs" / "ca" / "nary"):
            place.parent.mkdir(parents=True, exist_ok=True)
            place.write_bytes(CANARY)
        yield live


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


def _signed(server: LiveServer, blob_id: str) -> str:
    """The query a valid link for `blob_id` carries: as if the attacker had the master key."""
    return LinkSigner(server.settings.secret_key, 3600).query(blob_id)


def _raw_get(server: LiveServer, target: str) -> tuple[int, dict[str, str], bytes]:
    """GET exactly `target` (no client-side normalization of `..` or `%2e`)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _upload(admin: httpx.Client, name: str, data: bytes) -> dict[str, Any]:
    answer = admin.post("/api/uploads", files={"file": (name, data)})
    assert answer.status_code == 201, answer.text
    uploaded: dict[str, Any] = answer.json()
    return uploaded


def _webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, format="WEBP")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("a.png", hostile.GOOD_PNG, "image/png"),
        ("a.jpg", hostile.jpeg(), "image/jpeg"),
        ("a.webp", _webp(), "image/webp"),
        ("a.html", hostile.png_html_polyglot(), "image/png"),
        ("a.heic", HEIC_PHOTO.read_bytes(), "image/jpeg"),  # re-encoded: no HEIF encoder
    ],
)
def test_files_are_served_as_their_image_type_with_nosniff(
    admin: httpx.Client, name: str, data: bytes, media_type: str
) -> None:
    served = admin.get(_upload(admin, name, data)["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == media_type
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'"


def test_a_stored_blob_that_is_not_an_image_is_never_served(server: LiveServer) -> None:
    """Only images are stored; should anything else get into the store, it is a 404."""
    page = hostile.HTML
    sha = hashlib.sha256(page).hexdigest()
    place = Path(server.settings.blob_dir) / sha[:2] / sha[2:]
    place.parent.mkdir(parents=True, exist_ok=True)
    place.write_bytes(page)
    status, headers, body = _raw_get(server, f"/files/{sha}?{_signed(server, sha)}")
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert b"<script>" not in body


TRAVERSALS = [
    "../canary",
    "..%2fcanary",
    "%2e%2e/canary",
    "%2e%2e%2fcanary",
    "%2E%2E%2Fcanary",
    "..%2f..%2fcanary",
    "....//canary",
    "..\\canary",
    "..%5ccanary",
    "canary",
    "ca/nary",
    "ca%2fnary",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "//etc/passwd",
    "%00",
    "x" * 64,
    "A" * 64,  # hex, but upper case: not how ids are written
    "0" * 63,
    "0" * 65,
    "",
]


@pytest.mark.parametrize("blob_id", TRAVERSALS)
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "validly-signed"])
def test_no_id_reaches_a_file_outside_the_store(
    server: LiveServer, blob_id: str, signed: bool
) -> None:
    query = _signed(server, unquote(blob_id)) if signed else "exp=9999999999&sig=00"
    status, headers, body = _raw_get(server, f"/files/{blob_id}?{query}")
    assert status in (403, 404), (blob_id, status)
    assert headers["content-type"] == "application/json"
    assert CANARY not in body
    assert b"<html" not in body.lower()


def test_the_store_itself_refuses_ids_that_are_not_hashes(server: LiveServer) -> None:
    """By construction: the id is the only path input, and only 64 lower-case hex pass."""
    store = LocalBlobStore(Path(server.settings.blob_dir))
    for blob_id in [t for t in TRAVERSALS if "%" not in t]:
        with pytest.raises(BlobNotFound):
            asyncio.run(store.get(blob_id))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(blob_id=st.text(min_size=1, max_size=80))
def test_any_validly_signed_id_is_a_403_or_404(server: LiveServer, blob_id: str) -> None:
    with server.client() as client:
        answer = client.get(f"/files/{quote(blob_id, safe='')}?{_signed(server, blob_id)}")
    assert answer.status_code in (403, 404)
    assert answer.headers["content-type"] == "application/json"
    assert CANARY not in answer.content


def test_paths_under_api_and_files_are_404s_not_the_canvas(tmp_path: Path) -> None:
    """With a built canvas, unknown paths get index.html, except under /api and /files."""
    (tmp_path / "index.html").write_text("<!doctype html><title>canvas</title>")
    app = Starlette(routes=[Mount("/", SinglePageApp(tmp_path))])

    async def get(path: str) -> tuple[int, bytes]:
        sent: list[MutableMapping[str, Any]] = []
        requests = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if requests:
                return requests.pop()
            await asyncio.Event().wait()  # the client never hangs up; the answer ends the call
            raise AssertionError("unreachable")

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [],
        }
        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    assert asyncio.run(get("/flows/abc"))[0] == 200  # the canvas's own route
    for path in ["/files/../x", "/files/a/b", "/files", "/api/nope", "/api/../../etc/passwd"]:
        status, body = asyncio.run(get(path))
        assert status == 404, path
        assert b"canvas" not in body
