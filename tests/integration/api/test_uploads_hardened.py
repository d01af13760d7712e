"""Hostile uploads over real HTTP: `POST /api/uploads` and a trigger's image fields.

Each gets a clear 4xx naming the problem, and the server keeps serving afterwards.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import open_image
from tests.integration.api import flows, hostile
from tests.server import LiveServer, server_settings

CAP = 64 * 1024  # PLAIT_MAX_UPLOAD_BYTES for these tests


# name, file name, bytes, status, what the message says
HOSTILE = [
    ("bomb", "b.png", hostile.png_bomb(), 422, "more than 64,000,000 pixels"),
    ("svg", "drawing.svg", hostile.SVG, 415, "not a PNG, JPEG, WebP, HEIC or HEIF image"),
    ("html named .png", "page.png", hostile.HTML, 415, "not a PNG, JPEG, WebP, HEIC or HEIF image"),
    ("truncated jpeg", "cut.jpg", hostile.truncated_jpeg(), 422, "JPEG image is damaged"),
    ("empty", "empty.png", b"", 415, "not a PNG, JPEG, WebP, HEIC or HEIF image"),
    ("oversize", "big.png", hostile.GOOD_PNG + b"\0" * CAP, 413, f"larger than {CAP} bytes"),
]
IDS = [case[0] for case in HOSTILE]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("uploads") / "data"
    settings = server_settings(data, PLAIT_BASE_URL=None, PLAIT_MAX_UPLOAD_BYTES=str(CAP))
    with LiveServer(settings) as live:
        live.settings.base_url = live.url
        yield live


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


@pytest.fixture(scope="module")
def trigger_url(admin: httpx.Client) -> str:
    secret = flows.publish(
        admin, flows.create(admin, flows.photo_echo()), rate_limit_per_minute=10_000
    )
    return f"/api/trigger/{secret['secret']}/trigger"


def _still_serving(server: LiveServer, admin: httpx.Client) -> None:
    with server.client() as anonymous:
        assert anonymous.get("/api/health").json()["status"] == "ok"
    files = {"file": ("fine.png", hostile.GOOD_PNG, "image/png")}
    assert admin.post("/api/uploads", files=files).status_code == 201


@pytest.mark.parametrize(("name", "filename", "data", "status", "message"), HOSTILE, ids=IDS)
def test_hostile_uploads_get_a_clear_4xx(
    server: LiveServer,
    admin: httpx.Client,
    name: str,
    filename: str,
    data: bytes,
    status: int,
    message: str,
) -> None:
    answer = admin.post("/api/uploads", files={"file": (filename, data, "image/png")})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert message in answer.json()["detail"]
    _still_serving(server, admin)


@pytest.mark.parametrize(("name", "filename", "data", "status", "message"), HOSTILE, ids=IDS)
def test_hostile_trigger_image_fields_get_a_clear_4xx(
    server: LiveServer,
    admin: httpx.Client,
    trigger_url: str,
    name: str,
    filename: str,
    data: bytes,
    status: int,
    message: str,
) -> None:
    with server.client() as caller:
        as_file = caller.post(trigger_url, files={"photo": (filename, data, "image/png")})
        as_base64 = caller.post(trigger_url, json={"photo": base64.b64encode(data).decode()})
    for answer in (as_file, as_base64):
        if status == 413:
            assert answer.status_code == 413, answer.text[:200]
            assert message in answer.json()["detail"]
            continue
        if name == "empty" and answer is as_base64:  # "" is a missing value, not an image
            assert answer.status_code == 422
            continue
        assert answer.status_code == 422, answer.text  # a bad field, named
        [error] = answer.json()["errors"]
        assert error["field"] == "photo"
        assert message in error["message"]
    _still_serving(server, admin)
    with server.client() as caller:
        fine = caller.post(trigger_url, files={"photo": ("ok.png", hostile.GOOD_PNG)})
    assert fine.status_code == 200
    assert open_image(fine.content).size == (20, 10)


def test_a_png_with_another_name_and_type_is_taken_by_its_content(admin: httpx.Client) -> None:
    as_jpeg = {"file": ("photo.jpg", hostile.GOOD_PNG, "image/jpeg")}
    answer = admin.post("/api/uploads", files=as_jpeg)
    assert answer.status_code == 201, answer.text
    assert answer.json()["image"]["$image"]["media_type"] == "image/png"
    served = admin.get(answer.json()["url"])
    assert served.headers["content-type"] == "image/png"
    assert open_image(served.content).format == "PNG"


def test_a_png_html_polyglot_is_stored_without_the_html(admin: httpx.Client) -> None:
    answer = admin.post("/api/uploads", files={"file": ("p.png", hostile.png_html_polyglot())})
    assert answer.status_code == 201, answer.text
    served = admin.get(answer.json()["url"])
    assert b"<script>" not in served.content
    assert open_image(served.content).size == (12, 8)
    assert served.headers["content-type"] == "image/png"


def _chunked_upload_status(server: LiveServer, path: str, headers: dict[str, str]) -> int:
    """Send twice the cap of a multipart body with chunked encoding (no Content-Length) and,
    without finishing the body, read the answer: a server that stops at the cap has one."""
    host, port = server.url.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    part = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'
        b"Content-Type: image/png\r\n\r\n"
    )
    block = b"\0" * 8192
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\n{head}\r\n".encode()
        )
        for data in [part, *[block] * (2 * CAP // len(block))]:
            conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        status_line = conn.makefile("rb").readline()  # the body is not finished: no 0 chunk
    return int(status_line.split()[1])


def test_a_chunked_body_is_refused_once_it_passes_the_cap(
    server: LiveServer, admin: httpx.Client, trigger_url: str
) -> None:
    token = admin.post("/api/tokens", json={"name": "chunked"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert _chunked_upload_status(server, "/api/uploads", bearer) == 413
    assert _chunked_upload_status(server, trigger_url, {}) == 413
    _still_serving(server, admin)


def test_public_json_routes_refuse_huge_bodies(server: LiveServer) -> None:
    huge = b'{"email": "a@b.c", "password": "' + b"x" * (1024 * 1024) + b'"}'
    json = {"content-type": "application/json"}
    with server.client() as anonymous:
        for path in ("/api/auth/login", "/api/auth/setup"):
            answer = anonymous.post(path, content=huge, headers=json)
            assert answer.status_code == 413, answer.text[:200]
