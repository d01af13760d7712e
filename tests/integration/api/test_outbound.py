"""What a trigger call makes Plait fetch or send: image URLs and signed callbacks, both
through the guarded client (loopback is allowed here only by PLAIT_NET_ALLOW)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from tests.fakes.web import LocalServer, local_server
from tests.helpers import open_image
from tests.integration.api import flows
from tests.server import LiveServer, server_settings


@pytest.fixture
def web() -> Iterator[LocalServer]:
    with local_server() as server:
        yield server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = server_settings(tmp_path / "data", PLAIT_NET_ALLOW="127.0.0.1")
    with LiveServer(settings) as live:
        live.settings.base_url = live.url
        yield live


def _photo_flow() -> dict[str, object]:
    return {
        "format": 1,
        "nodes": [
            {
                "id": "trigger",
                "type": "http_trigger",
                "config": {"fields": [{"name": "photo", "type": "image"}]},
            },
            {"id": "respond", "type": "respond", "config": {"mode": "image"}},
        ],
        "edges": [{"from": "trigger.photo", "to": "respond.image"}],
    }


def test_the_result_is_posted_to_the_callback_url_signed_with_the_secret(
    server: LiveServer, admin: httpx.Client, web: LocalServer
) -> None:
    arrived = threading.Event()

    def hook(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(204)
        handler.end_headers()
        arrived.set()

    web.routes["/hook"] = hook
    secret = flows.publish(admin, flows.create(admin, flows.echo()))["secret"]
    with server.client() as caller:
        accepted = caller.post(
            f"/api/trigger/{secret}/trigger",
            params={"wait": "false"},
            json={"prompt": "hello", "callback_url": f"{web.origin}/hook"},
        )
    assert accepted.status_code == 202, accepted.text
    assert arrived.wait(30), "the callback never came"
    [call] = [s for s in web.seen if s.path == "/hook"]
    payload = json.loads(call.body)
    assert payload["run_id"] == accepted.json()["run_id"]
    assert payload["status"] == "succeeded"
    assert payload["result"] == {"prompt": "hello", "label": "v1"}
    expected = hmac.new(secret.encode(), call.body, hashlib.sha256).hexdigest()
    assert call.headers["X-Plait-Signature"] == f"sha256={expected}"


def test_a_callback_to_a_private_address_is_refused_before_running(
    server: LiveServer, admin: httpx.Client
) -> None:
    secret = flows.publish(admin, flows.create(admin, flows.echo()))["secret"]
    with server.client() as caller:
        answer = caller.post(
            f"/api/trigger/{secret}/trigger",
            json={"prompt": "x", "callback_url": "http://169.254.169.254/latest/meta-data"},
        )
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "callback_url"
    assert "169.254.169.254" in error["message"]
    assert admin.get("/api/runs").json() == []


def test_an_image_field_may_be_a_url_fetched_through_the_guard(
    server: LiveServer, admin: httpx.Client, web: LocalServer
) -> None:
    secret = flows.publish(admin, flows.create(admin, _photo_flow()))["secret"]
    with server.client() as caller:
        fetched = caller.post(
            f"/api/trigger/{secret}/trigger", json={"photo": f"{web.origin}/image.png"}
        )
        not_image = caller.post(
            f"/api/trigger/{secret}/trigger", json={"photo": f"{web.origin}/page"}
        )
        private = caller.post(
            f"/api/trigger/{secret}/trigger", json={"photo": "http://10.1.2.3/cat.png"}
        )
    assert fetched.status_code == 200, fetched.text
    assert open_image(fetched.content).size[0] > 0
    assert not_image.status_code == 422
    assert not_image.json()["errors"][0]["field"] == "photo"
    assert private.status_code == 422
    assert "10.1.2.3" in private.json()["errors"][0]["message"]
