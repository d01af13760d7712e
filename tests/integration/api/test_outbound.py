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
    secret = flows.publish(admin, flows.create(admin, flows.photo_echo()))["secret"]
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
    with server.client() as caller:
        odd = caller.post(
            f"/api/trigger/{secret}/trigger",
            json={"photo": f"{web.origin}/redirect?to=javascript:alert(1)"},
        )
    assert odd.status_code == 422, odd.text
    assert odd.json()["errors"][0]["field"] == "photo"


def _url_flow() -> dict[str, object]:
    """HTTP Trigger {url} → Image URL (the caller's URL) → Respond."""
    return {
        "format": 1,
        "nodes": [
            {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "url"}]}},
            {"id": "fetch", "type": "image_url", "config": {"url": "{{ trigger.url }}"}},
            {"id": "respond", "type": "respond", "config": {"mode": "image"}},
        ],
        "edges": [{"from": "fetch.image", "to": "respond.image"}],
    }


@pytest.mark.parametrize(
    ("path_or_url", "says"),
    [
        ("http://10.1.2.3/cat.png", "10.1.2.3 is a private address"),
        ("http://169.254.169.254/latest/meta-data", "cloud metadata"),
        ("/redirect?to=javascript:alert(1)", "redirected to a URL that is not http(s)"),
        ("/redirect?to=mailto:a@example.com", "redirected to a URL that is not http(s)"),
        ("/page", "did not send a usable image"),
    ],
)
def test_a_url_the_caller_chose_that_the_flow_cannot_fetch_is_a_422_naming_the_node(
    server: LiveServer, admin: httpx.Client, web: LocalServer, path_or_url: str, says: str
) -> None:
    url = path_or_url if path_or_url.startswith("http") else f"{web.origin}{path_or_url}"
    secret = flows.publish(admin, flows.create(admin, _url_flow()))["secret"]
    with server.client() as caller:
        answer = caller.post(f"/api/trigger/{secret}/trigger", json={"url": url})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["node_id"] == "fetch"
    assert says in body["detail"]
    assert body["category"] == "input"


def test_a_batch_row_whose_image_url_redirects_to_an_odd_scheme_is_a_422(
    admin: httpx.Client, web: LocalServer
) -> None:
    flow_id = flows.create(admin, flows.photo_echo())
    row = json.dumps({"photo": f"{web.origin}/redirect?to=data:text/plain,hi"})
    rows = ("rows.jsonl", (row + "\n").encode(), "application/json")
    answer = admin.post(f"/api/flows/{flow_id}/batches/estimate", files={"rows": rows})
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["row"], error["field"]) == (1, "photo")
    assert "not http(s)" in error["message"]
